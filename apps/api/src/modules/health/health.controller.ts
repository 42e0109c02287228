import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { HttpReply } from '../../common/http';
import { serverVersion } from '@sop/db';
import { DataSource } from 'typeorm';
import { Public } from '../../common/principal';
import { TemporalService } from '../../temporal/temporal.module';
import { type CheckDto, LiveDto, ReadinessDto } from './health.dto';

/** Probes carry their own deadlines, so a check never outlives the request. */
async function check(probe: () => Promise<string>): Promise<CheckDto> {
  const start = Date.now();
  try {
    const detail = await probe();
    return { status: 'up', detail, ms: Date.now() - start };
  } catch (err) {
    return { status: 'down', detail: (err as Error).message, ms: Date.now() - start };
  }
}

@ApiTags('system')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly temporal: TemporalService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ type: LiveDto })
  live(): LiveDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: Postgres and Temporal answer (503 when one does not)' })
  @ApiOkResponse({ type: ReadinessDto, description: 'Ready' })
  @ApiServiceUnavailableResponse({ type: ReadinessDto, description: 'Not ready: the checks say which part is down' })
  async ready(@Res({ passthrough: true }) res: HttpReply): Promise<ReadinessDto> {
    const [postgres, temporal] = await Promise.all([
      check(() => serverVersion(this.db)),
      check(() => this.temporal.ping()),
    ]);
    const ready = postgres.status === 'up' && temporal.status === 'up';
    res.status(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not ready', checks: { postgres, temporal } };
  }
}
