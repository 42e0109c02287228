import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import { SopForecastService } from './sop-forecast.service';
import { CreateSopDto, ForecastDto, ListSopsQuery, MigrateEnrollmentsDto, SopDetailDto, SopDto, UpdateSopDto } from './sops.dto';
import { SopsService } from './sops.service';

@ApiTags('sops')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('sops')
export class SopsController {
  constructor(
    private readonly sops: SopsService,
    private readonly forecasts: SopForecastService,
  ) {}

  @Post()
  @Roles('admin', 'ops')
  @ApiOperation({ summary: 'Create a draft SOP (422 SOP_INVALID names each problem by JSON path)' })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateSopDto): Promise<SopDto> {
    return this.sops.create(p, dto);
  }

  @Get()
  @Roles('admin', 'ops', 'manager')
  list(@CurrentPrincipal() p: Principal, @Query() q: ListSopsQuery): Promise<SopDto[]> {
    return this.sops.list(p.tenantId, q.status);
  }

  @Get(':id')
  @Roles('admin', 'ops', 'manager')
  @ApiOperation({ summary: 'An SOP with its published versions and enrollment and task counts' })
  get(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<SopDetailDto> {
    return this.sops.get(p.tenantId, id);
  }

  @Patch(':id')
  @Roles('admin', 'ops')
  @ApiOperation({ summary: 'Edit; on an active or paused SOP a new definition publishes a new version (enrollments keep theirs)' })
  update(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: UpdateSopDto): Promise<SopDto> {
    return this.sops.update(p, id, dto);
  }

  @Delete(':id')
  @Roles('admin', 'ops')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a draft that was never published (a published SOP is archived instead)' })
  remove(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<void> {
    return this.sops.remove(p.tenantId, id);
  }

  @Post(':id/activate')
  @Roles('admin', 'ops')
  @HttpCode(200)
  @ApiOperation({ summary: 'Validate again, publish a version and start the dispatcher (repeating it changes nothing)' })
  activate(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<SopDto> {
    return this.sops.activate(p, id);
  }

  @Post(':id/pause')
  @Roles('admin', 'ops')
  @HttpCode(200)
  pause(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<SopDto> {
    return this.sops.pause(p, id);
  }

  @Post(':id/resume')
  @Roles('admin', 'ops')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a paused SOP: work that fell due meanwhile is created now, once' })
  resume(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<SopDto> {
    return this.sops.resume(p, id);
  }

  @Post(':id/archive')
  @Roles('admin', 'ops')
  @HttpCode(200)
  @ApiOperation({ summary: 'End the SOP: open enrollments close and pending tasks are cancelled' })
  archive(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<SopDto> {
    return this.sops.archive(p, id);
  }

  @Post(':id/migrate-enrollments')
  @Roles('admin', 'ops')
  @HttpCode(200)
  @ApiOperation({ summary: 'Move open enrollments from older versions (or fromVersion) to the current version, on purpose' })
  migrate(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: MigrateEnrollmentsDto): Promise<{ migrated: number; toVersion: number }> {
    return this.sops.migrateEnrollments(p, id, dto.fromVersion);
  }

  @Get(':id/forecast')
  @Roles('admin', 'ops', 'manager')
  @ApiOperation({ summary: 'Reach now and expected tasks per day per executor for the next 30 days, over-capacity days flagged' })
  forecast(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<ForecastDto> {
    return this.forecasts.forecast(p.tenantId, id);
  }
}
