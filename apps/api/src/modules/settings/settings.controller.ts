import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { RollupRebuildBusy } from '@sop/engine';
import { fail } from '../../common/errors.catalog';
import { ApiErrors } from '../../common/openapi';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { DASHBOARDS_ERRORS } from '../dashboards/dashboards.errors';
import { ContactCapsDto, MaterialSettingsDto, TaskResultSettingsDto } from './settings.dto';
import { TenantSettingsRepository } from './tenant-settings.repository';

@ApiTags('settings')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('settings')
export class SettingsController {
  constructor(private readonly settings: TenantSettingsRepository) {}

  @Get('contact-caps')
  @Roles('admin', 'ops', 'manager')
  @ApiOperation({ summary: 'The per-contact cap across all SOPs (a lower-priority SOP yields when it is reached)' })
  @ApiOkResponse({ type: ContactCapsDto })
  caps(@CurrentPrincipal() p: Principal): Promise<ContactCapsDto> {
    return this.settings.caps(p.tenantId);
  }

  @Put('contact-caps')
  @Roles('admin', 'ops')
  @ApiOkResponse({ type: ContactCapsDto })
  async setCaps(@CurrentPrincipal() p: Principal, @Body() dto: ContactCapsDto): Promise<ContactCapsDto> {
    await this.settings.setCaps(p.tenantId, dto);
    return this.settings.caps(p.tenantId);
  }

  @Get('materials')
  @Roles('admin', 'ops')
  @ApiOperation({ summary: 'Whether SOP materials may link over plain http (https only by default)' })
  @ApiOkResponse({ type: MaterialSettingsDto })
  async materials(@CurrentPrincipal() p: Principal): Promise<MaterialSettingsDto> {
    return { allowHttp: await this.settings.allowsHttpMaterials(p.tenantId) };
  }

  @Put('materials')
  @Roles('admin')
  @ApiOperation({ summary: 'Let SOP materials link over plain http, or not (SOPs already saved keep their links)' })
  @ApiOkResponse({ type: MaterialSettingsDto })
  async setMaterials(@CurrentPrincipal() p: Principal, @Body() dto: MaterialSettingsDto): Promise<MaterialSettingsDto> {
    await this.settings.setAllowHttpMaterials(p.tenantId, dto.allowHttp);
    return { allowHttp: dto.allowHttp };
  }

  @Get('task-results')
  @Roles('admin', 'ops', 'manager')
  @ApiOperation({ summary: "The organization's zone for dashboards, the grace period before a task expires, and the response attribution window" })
  @ApiOkResponse({ type: TaskResultSettingsDto })
  taskResults(@CurrentPrincipal() p: Principal): Promise<TaskResultSettingsDto> {
    return this.settings.taskResults(p.tenantId);
  }

  @Put('task-results')
  @Roles('admin')
  @ApiOperation({
    summary: 'Change them; a new zone or attribution window rebuilds the dashboard rollups of the organization',
    description: "The rebuild runs in the request, and only when none of the organization's tasks or responses is being written at that moment (else 409 ROLLUP_REBUILD_BUSY and nothing changes): it holds the organization's task and response writes while it runs; other organizations' writes go on.",
  })
  @ApiOkResponse({ type: TaskResultSettingsDto })
  @ApiErrors('ROLLUP_REBUILD_BUSY')
  async setTaskResults(@CurrentPrincipal() p: Principal, @Body() dto: TaskResultSettingsDto): Promise<TaskResultSettingsDto> {
    const before = await this.settings.taskResults(p.tenantId);
    const recount = before.timezone !== dto.timezone || before.attributionWindowDays !== dto.attributionWindowDays;
    try {
      await this.settings.setTaskResults(p.tenantId, dto, recount);
    } catch (e) {
      if (e instanceof RollupRebuildBusy) throw fail(DASHBOARDS_ERRORS.ROLLUP_REBUILD_BUSY); // rolled back: nothing changed
      throw e;
    }
    return this.settings.taskResults(p.tenantId);
  }
}
