import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type ContactCaps, loadCaps, type Queryable, rebuildRollups } from '@sop/engine';
import { DataSource } from 'typeorm';

export interface TaskResultSettings { timezone: string; taskExpiryGraceHours: number; attributionWindowDays: number }

/**
 * The organization's settings, as the `tenants` row keeps them: the API's one home for that SQL (the engine reads
 * the caps through the same `loadCaps`). Every statement is keyed by the caller's organization.
 */
@Injectable()
export class TenantSettingsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  caps(tenantId: string): Promise<ContactCaps> {
    return loadCaps(this.db, tenantId);
  }

  async setCaps(tenantId: string, caps: ContactCaps): Promise<void> {
    await this.db.query(`UPDATE tenants SET contact_cap_per_day = $2, contact_cap_per_week = $3 WHERE id = $1`, [tenantId, caps.perDay, caps.perWeek]);
  }

  async allowsHttpMaterials(tenantId: string): Promise<boolean> {
    const [row] = await this.db.query(`SELECT allow_http_materials FROM tenants WHERE id = $1`, [tenantId]);
    return row.allow_http_materials;
  }

  async setAllowHttpMaterials(tenantId: string, allow: boolean): Promise<void> {
    await this.db.query(`UPDATE tenants SET allow_http_materials = $2 WHERE id = $1`, [tenantId, allow]);
  }

  async taskResults(tenantId: string): Promise<TaskResultSettings> {
    const [row] = await this.db.query(
      `SELECT timezone, task_expiry_grace_hours AS "taskExpiryGraceHours", attribution_window_days AS "attributionWindowDays" FROM tenants WHERE id = $1`,
      [tenantId]);
    return row;
  }

  /**
   * Saves them; with `recount` (a new zone or attribution window) the save and the rollups' recount commit together,
   * under the organization's rollup lock: a task writer counts by the zone committed, so it must never see the new
   * zone before the rebuild. Busy: RollupRebuildBusy, and nothing changed.
   */
  async setTaskResults(tenantId: string, s: TaskResultSettings, recount: boolean): Promise<void> {
    const save = (m: Queryable) => m.query(
      `UPDATE tenants SET timezone = $2, task_expiry_grace_hours = $3, attribution_window_days = $4 WHERE id = $1`,
      [tenantId, s.timezone, s.taskExpiryGraceHours, s.attributionWindowDays]);
    if (recount) await rebuildRollups(this.db, { tenantIds: [tenantId], nowait: true, first: save });
    else await save(this.db);
  }
}
