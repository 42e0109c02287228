import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { AppError } from '@sop/domain';
import type { Response } from 'express';
import { Public } from '../../common/principal';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { METRICS, type Metrics } from './metrics';

/** Prometheus scrape endpoint; protected by METRICS_TOKEN when that is set. */
@ApiExcludeController()
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(
    @Inject(METRICS) private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  async scrape(@Headers('authorization') auth: string | undefined, @Res() res: Response): Promise<void> {
    if (this.config.metricsToken && auth !== `Bearer ${this.config.metricsToken}`) {
      throw new AppError('UNAUTHENTICATED', 401, 'Send "Authorization: Bearer <METRICS_TOKEN>".');
    }
    res.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
