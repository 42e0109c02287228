import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { BusinessCalendar } from '@sop/domain';
import { loadCalendar, type Queryable } from '@sop/engine';
import { DataSource } from 'typeorm';

/**
 * The organization's `calendar_overrides` rows: the API's one home for that SQL (the engine reads them through the
 * same `loadCalendar`). Every statement is keyed by the caller's organization; a statement that runs in the caller's
 * transaction takes its manager.
 */
@Injectable()
export class CalendarRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The shipped calendar with the organization's overrides on top. */
  calendar(tenantId: string, m: Queryable = this.db): Promise<BusinessCalendar> {
    return loadCalendar(m, tenantId);
  }

  /** Sets (or replaces) the organization's entry for a day. */
  async setOverride(m: Queryable, tenantId: string, date: string, working: boolean, name: string): Promise<void> {
    await m.query(
      `INSERT INTO calendar_overrides (tenant_id, date, working, name) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, date) DO UPDATE SET working = EXCLUDED.working, name = EXCLUDED.name`,
      [tenantId, date, working, name],
    );
  }

  async deleteOverride(tenantId: string, date: string): Promise<void> {
    await this.db.query(`DELETE FROM calendar_overrides WHERE tenant_id = $1 AND date = $2`, [tenantId, date]);
  }
}
