import { Body, Controller, Get, Put } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { loadCaps, rebuildRollups, RollupRebuildBusy } from '@sop/engine';
import { DataSource } from 'typeorm';
import { fail } from '../../common/errors.catalog';
import { ApiErrors } from '../../common/openapi';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { DASHBOARDS_ERRORS } from '../dashboards/dashboards.errors';
import { ContactCapsDto, MaterialSettingsDto, TaskResultSettingsDto } from './settings.dto';

@ApiTags('settings')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('settings')
export class SettingsController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  @Get('contact-caps')
  @Roles('admin', 'ops', 'manager')
  @ApiOperation({ summary: 'The per-contact cap across all SOPs (a lower-priority SOP yields when it is reached)' })
  @ApiOkResponse({ type: ContactCapsDto })
  caps(@CurrentPrincipal() p: Principal): Promise<ContactCapsDto> {
    return loadCaps(this.db, p.tenantId);
  }

  @Put('contact-caps')
  @Roles('admin', 'ops')
  @ApiOkResponse({ type: ContactCapsDto })
  async setCaps(@CurrentPrincipal() p: Principal, @Body() dto: ContactCapsDto): Promise<ContactCapsDto> {
    await this.db.query(`UPDATE tenants SET contact_cap_per_day = $2, contact_cap_per_week = $3 WHERE id = $1`, [p.tenantId, dto.perDay, dto.perWeek]);
    return loadCaps(this.db, p.tenantId);
  }

  @Get('materials')
  @Roles('admin', 'ops')
  @ApiOperation({ summary: 'Whether SOP materials may link over plain http (https only by default)' })
  @ApiOkResponse({ type: MaterialSettingsDto })
  async materials(@CurrentPrincipal() p: Principal): Promise<MaterialSettingsDto> {
    const [row] = await this.db.query(`SELECT allow_http_materials FROM tenants WHERE id = $1`, [p.tenantId]);
    return { allowHttp: row.allow_http_materials };
  }

  @Put('materials')
  @Roles('admin')
  @ApiOperation({ summary: 'Let SOP materials link over plain http, or not (SOPs already saved keep their links)' })
  @ApiOkResponse({ type: MaterialSettingsDto })
  async setMaterials(@CurrentPrincipal() p: Principal, @Body() dto: MaterialSettingsDto): Promise<MaterialSettingsDto> {
    await this.db.query(`UPDATE tenants SET allow_http_materials = $2 WHERE id = $1`, [p.tenantId, dto.allowHttp]);
    return { allowHttp: dto.allowHttp };
  }

  @Get('task-results')
  @Roles('admin', 'ops', 'manager')
  @ApiOperation({ summary: "The organization's zone for dashboards, the grace period before a task expires, and the response attribution window" })
  @ApiOkResponse({ type: TaskResultSettingsDto })
  taskResults(@CurrentPrincipal() p: Principal): Promise<TaskResultSettingsDto> {
    return this.loadTaskResults(p.tenantId);
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
    const before = await this.loadTaskResults(p.tenantId);
    const save = (m: { query: DataSource['query'] }) => m.query(
      `UPDATE tenants SET timezone = $2, task_expiry_grace_hours = $3, attribution_window_days = $4 WHERE id = $1`,
      [p.tenantId, dto.timezone, dto.taskExpiryGraceHours, dto.attributionWindowDays]);
    if (before.timezone === dto.timezone && before.attributionWindowDays === dto.attributionWindowDays) {
      await save(this.db);
      return this.loadTaskResults(p.tenantId);
    }
    // The new zone or window and the recount commit together, under the organization's rollup lock: a task
    // writer counts by the zone committed, so it must never see the new zone before the rebuild.
    try {
      await rebuildRollups(this.db, { tenantIds: [p.tenantId], nowait: true, first: save });
    } catch (e) {
      if (e instanceof RollupRebuildBusy) throw fail(DASHBOARDS_ERRORS.ROLLUP_REBUILD_BUSY); // rolled back: nothing changed
      throw e;
    }
    return this.loadTaskResults(p.tenantId);
  }

  private async loadTaskResults(tenantId: string): Promise<TaskResultSettingsDto> {
    const [row] = await this.db.query(
      `SELECT timezone, task_expiry_grace_hours AS "taskExpiryGraceHours", attribution_window_days AS "attributionWindowDays" FROM tenants WHERE id = $1`,
      [tenantId]);
    return row;
  }
}
