import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { HttpReply } from '../../common/http';
import { COMMON_ERRORS, fail } from '../../common/errors.catalog';
import { ApiErrors, ApiTextResponse } from '../../common/openapi';
import { Public } from '../../common/principal';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { METRICS, type Metrics } from './metrics';

/** Prometheus scrape endpoint; protected by METRICS_TOKEN when that is set. */
@ApiTags('system')
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(
    @Inject(METRICS) private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Prometheus metrics; when METRICS_TOKEN is set, send it as "Authorization: Bearer <METRICS_TOKEN>"' })
  @ApiTextResponse('text/plain', 'The Prometheus text exposition format (version 0.0.4)')
  @ApiErrors('UNAUTHENTICATED')
  async scrape(@Headers('authorization') auth: string | undefined, @Res() res: HttpReply): Promise<void> {
    if (this.config.metricsToken && auth !== `Bearer ${this.config.metricsToken}`) {
      throw fail(COMMON_ERRORS.UNAUTHENTICATED, 'Send "Authorization: Bearer <METRICS_TOKEN>".');
    }
    res.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
