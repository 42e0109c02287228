import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/openapi';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import { SopForecastService } from './sop-forecast.service';
import { SopPreviewService } from './sop-preview.service';
import { SopProgressService } from './sop-progress.service';
import {
  CheckSopDto, CreateSopDto, ForecastDto, ListSopsQuery, MigratedDto, MigrateEnrollmentsDto, PlannedScheduleDto, PreviewMessageDto, PreviewScheduleDto,
  RenderedMessageDto, SopCheckDto, SopDetailDto, SopDto, SopProgressDto, SopListItemDto, SopVersionDetailDto, UpdateSopDto, VersionParams,
} from './sops.dto';
import { SopsService } from './sops.service';

@ApiTags('sops')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('sops')
export class SopsController {
  constructor(
    private readonly sops: SopsService,
    private readonly forecasts: SopForecastService,
    private readonly previews: SopPreviewService,
    private readonly progresses: SopProgressService,
  ) {}

  @Post('check')
  @Roles('admin', 'ops')
  @HttpCode(200)
  @ApiOperation({ summary: 'Check a draft definition against everything a save checks, without saving (the designer asks as the user types)' })
  @ApiOkResponse({ type: SopCheckDto })
  async check(@CurrentPrincipal() p: Principal, @Body() dto: CheckSopDto): Promise<SopCheckDto> {
    return this.sops.dryRun(p.tenantId, dto.definition, dto.sopId?.toLowerCase());
  }

  @Post('preview-schedule')
  @Roles('admin', 'ops')
  @HttpCode(200)
  @ApiOperation({ summary: "A recurring rule's next occurrences in the SOP's zone, with holidays, make-up working days and skipped days marked" })
  @ApiOkResponse({ type: PlannedScheduleDto })
  @ApiErrors('SOP_INVALID')
  previewSchedule(@CurrentPrincipal() p: Principal, @Body() dto: PreviewScheduleDto): Promise<PlannedScheduleDto> {
    return this.previews.schedule(p.tenantId, dto);
  }

  @Post('preview-message')
  @Roles('admin', 'ops')
  @HttpCode(200)
  @ApiOperation({ summary: "A draft step's message rendered for one contact, by the engine's own template code" })
  @ApiOkResponse({ type: RenderedMessageDto })
  @ApiErrors('SOP_INVALID', ['CONTACT_NOT_FOUND', 404])
  previewMessage(@CurrentPrincipal() p: Principal, @Body() dto: PreviewMessageDto): Promise<RenderedMessageDto> {
    return this.previews.message(p.tenantId, dto);
  }

  @Post()
  @Roles('admin', 'ops')
  @ApiOperation({ summary: 'Create a draft SOP (422 SOP_INVALID names each problem by JSON path)' })
  @ApiCreatedResponse({ type: SopDto })
  @ApiErrors('SOP_INVALID', 'SOP_NAME_TAKEN')
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateSopDto): Promise<SopDto> {
    return this.sops.create(p, dto);
  }

  @Get()
  @Roles('admin', 'ops', 'manager')
  @ApiOperation({ summary: "The tenant's SOPs by name, each with its audience size, open enrollments and tasks today and overdue" })
  @ApiOkResponse({ type: [SopListItemDto] })
  list(@CurrentPrincipal() p: Principal, @Query() q: ListSopsQuery): Promise<SopListItemDto[]> {
    return this.sops.list(p.tenantId, q);
  }

  @Get(':id')
  @Roles('admin', 'ops', 'manager')
  @ApiOperation({ summary: 'An SOP with its published versions and enrollment and task counts' })
  @ApiOkResponse({ type: SopDetailDto })
  @ApiErrors('SOP_NOT_FOUND')
  get(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<SopDetailDto> {
    return this.sops.get(p.tenantId, id);
  }

  @Get(':id/versions/:version')
  @Roles('admin', 'ops', 'manager')
  @ApiOperation({ summary: 'One published version: its definition and how many open enrollments follow it (compare two for their difference)' })
  @ApiOkResponse({ type: SopVersionDetailDto })
  @ApiErrors(['VALIDATION_FAILED', 400], 'SOP_NOT_FOUND', 'SOP_VERSION_NOT_FOUND')
  version(@CurrentPrincipal() p: Principal, @Param() params: VersionParams): Promise<SopVersionDetailDto> {
    return this.sops.version(p.tenantId, params.id.toLowerCase(), params.version);
  }

  @Patch(':id')
  @Roles('admin', 'ops')
  @ApiOperation({ summary: 'Edit; on an active or paused SOP a new definition publishes a new version (enrollments keep theirs)' })
  @ApiOkResponse({ type: SopDto })
  @ApiErrors('SOP_NOT_FOUND', 'SOP_ARCHIVED', 'BROADCAST_PUBLISHED', 'SOP_INVALID', 'SOP_NAME_TAKEN', 'TEMPORAL_UNAVAILABLE')
  update(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: UpdateSopDto): Promise<SopDto> {
    return this.sops.update(p, id, dto);
  }

  @Delete(':id')
  @Roles('admin', 'ops')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a draft that was never published (a published SOP is archived instead)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors('SOP_NOT_FOUND', 'SOP_PUBLISHED', 'SOP_IN_USE')
  remove(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<void> {
    return this.sops.remove(p.tenantId, id);
  }

  @Post(':id/activate')
  @Roles('admin', 'ops')
  @HttpCode(200)
  @ApiOperation({ summary: 'Validate again, publish a version and start the dispatcher (repeating it changes nothing)' })
  @ApiOkResponse({ type: SopDto })
  @ApiErrors('SOP_NOT_FOUND', 'SOP_ARCHIVED', 'SOP_PAUSED', 'SOP_INVALID', 'TEMPORAL_UNAVAILABLE')
  activate(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<SopDto> {
    return this.sops.activate(p, id);
  }

  @Post(':id/pause')
  @Roles('admin', 'ops')
  @HttpCode(200)
  @ApiOkResponse({ type: SopDto })
  @ApiErrors('SOP_NOT_FOUND', 'SOP_STATUS_CONFLICT')
  pause(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<SopDto> {
    return this.sops.pause(p, id);
  }

  @Post(':id/resume')
  @Roles('admin', 'ops')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a paused SOP: work that fell due meanwhile is created now, once' })
  @ApiOkResponse({ type: SopDto })
  @ApiErrors('SOP_NOT_FOUND', 'SOP_STATUS_CONFLICT', 'TEMPORAL_UNAVAILABLE')
  resume(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<SopDto> {
    return this.sops.resume(p, id);
  }

  @Post(':id/archive')
  @Roles('admin', 'ops')
  @HttpCode(200)
  @ApiOperation({ summary: 'End the SOP: open enrollments close and pending tasks are cancelled' })
  @ApiOkResponse({ type: SopDto })
  @ApiErrors('SOP_NOT_FOUND', 'SOP_STATUS_CONFLICT')
  archive(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<SopDto> {
    return this.sops.archive(p, id);
  }

  @Post(':id/migrate-enrollments')
  @Roles('admin', 'ops')
  @HttpCode(200)
  @ApiOperation({ summary: 'Move open enrollments from older versions (or fromVersion) to the current version, on purpose' })
  @ApiOkResponse({ type: MigratedDto })
  @ApiErrors('SOP_NOT_FOUND', 'SOP_NOT_MIGRATABLE')
  migrate(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: MigrateEnrollmentsDto): Promise<MigratedDto> {
    return this.sops.migrateEnrollments(p, id, dto.fromVersion);
  }

  @Get(':id/forecast')
  @Roles('admin', 'ops', 'manager')
  @ApiOperation({ summary: 'Reach now and expected tasks per day per executor for the next 30 days, over-capacity days flagged' })
  @ApiOkResponse({ type: ForecastDto })
  @ApiErrors('SOP_NOT_FOUND')
  forecast(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<ForecastDto> {
    return this.forecasts.forecast(p.tenantId, id);
  }

  @Get(':id/progress')
  @Roles('admin', 'ops', 'manager')
  @ApiOperation({ summary: 'Where its contacts are, per step: entered, waiting, tasks made and done, exited by reason' })
  @ApiOkResponse({ type: SopProgressDto })
  @ApiErrors('SOP_NOT_FOUND')
  progress(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<SopProgressDto> {
    return this.progresses.progress(p.tenantId, id);
  }
}
