import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { NotifyChannel } from '@sop/domain';
import type { Queryable } from '@sop/engine';
import { DataSource } from 'typeorm';

export interface SettingsRow {
  locale: 'zh' | 'en'; timezone: string; channels: NotifyChannel[]; digest_time: string; quiet_start: string | null; quiet_end: string | null;
  due_soon_minutes: number; kinds_off: string[];
}

export interface TargetRow { id: string; kind: string; name: string; url: string; secret: string | null; created_at: Date }

export interface PreferencesRow {
  locale: string; timezone: string; channels: string[]; digestTime: string; quietStart: string | null; quietEnd: string | null;
  dueSoonMinutes: number; kindsOff: string[];
}

const TARGET_COLUMNS = 'id, kind, name, url, secret, created_at';

/**
 * A person's notification settings (the `notification_preferences` row, read through the user_notification_settings
 * view that fills in the defaults) and their `notification_targets`: the API's one home for that SQL. Statements are
 * keyed by the caller's organization and person (a target's user id is that person's, a user of the organization);
 * those that run in the caller's transaction take its manager.
 */
@Injectable()
export class PreferencesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async settings(tenantId: string, userId: string): Promise<SettingsRow | undefined> {
    const [row]: SettingsRow[] = await this.db.query(
      `SELECT locale, timezone, channels, digest_time::text, quiet_start::text, quiet_end::text, due_soon_minutes, kinds_off
         FROM user_notification_settings WHERE tenant_id = $1 AND user_id = $2`, [tenantId, userId]);
    return row;
  }

  /** Writes the person's row whole; a repeat writes the same row. */
  async savePreferences(tenantId: string, userId: string, p: PreferencesRow): Promise<void> {
    await this.db.query(
      `INSERT INTO notification_preferences (user_id, tenant_id, locale, timezone, channels, digest_time, quiet_start, quiet_end, due_soon_minutes, kinds_off)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (user_id) DO UPDATE SET locale = EXCLUDED.locale, timezone = EXCLUDED.timezone, channels = EXCLUDED.channels,
         digest_time = EXCLUDED.digest_time, quiet_start = EXCLUDED.quiet_start, quiet_end = EXCLUDED.quiet_end,
         due_soon_minutes = EXCLUDED.due_soon_minutes, kinds_off = EXCLUDED.kinds_off, updated_at = now()`,
      [userId, tenantId, p.locale, p.timezone, p.channels, p.digestTime, p.quietStart, p.quietEnd, p.dueSoonMinutes, p.kindsOff]);
  }

  targets(tenantId: string, userId: string): Promise<TargetRow[]> {
    return this.db.query(
      `SELECT ${TARGET_COLUMNS} FROM notification_targets WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at, id`, [tenantId, userId]);
  }

  async target(tenantId: string, userId: string, id: string): Promise<TargetRow | undefined> {
    const [row]: TargetRow[] = await this.db.query(
      `SELECT ${TARGET_COLUMNS} FROM notification_targets WHERE tenant_id = $1 AND user_id = $2 AND id = $3`, [tenantId, userId, id]);
    return row;
  }

  /** Locks the person's user row: their target writes go one at a time, so the cap holds under concurrent creates. */
  async lockPerson(m: Queryable, userId: string): Promise<void> {
    await m.query(`SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, [userId]);
  }

  async targetAt(m: Queryable, userId: string, kind: string, url: string): Promise<TargetRow | undefined> {
    const [same]: TargetRow[] = await m.query(
      `SELECT ${TARGET_COLUMNS} FROM notification_targets WHERE user_id = $1 AND kind = $2 AND url = $3`, [userId, kind, url]);
    return same;
  }

  async countTargets(m: Queryable, userId: string): Promise<number> {
    const [{ n }] = await m.query(`SELECT count(*)::int AS n FROM notification_targets WHERE user_id = $1`, [userId]);
    return n;
  }

  async insertTarget(m: Queryable, tenantId: string, userId: string, t: { kind: string; name: string; url: string; secret: string | null }): Promise<TargetRow> {
    const [row]: TargetRow[] = await m.query(
      `INSERT INTO notification_targets (tenant_id, user_id, kind, name, url, secret) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING ${TARGET_COLUMNS}`,
      [tenantId, userId, t.kind, t.name, t.url, t.secret]);
    return row;
  }

  async updateTarget(tenantId: string, userId: string, id: string, t: { name: string; url: string; secret: string | null }): Promise<TargetRow> {
    const [[row]]: [TargetRow[]] = await this.db.query(
      `UPDATE notification_targets SET name = $4, url = $5, secret = $6 WHERE tenant_id = $1 AND user_id = $2 AND id = $3
       RETURNING ${TARGET_COLUMNS}`,
      [tenantId, userId, id, t.name, t.url, t.secret]);
    return row;
  }

  /** Removes the target; its deliveries not yet sent go with it. */
  async deleteTarget(tenantId: string, userId: string, id: string): Promise<void> {
    await this.db.query(`DELETE FROM notification_targets WHERE tenant_id = $1 AND user_id = $2 AND id = $3`, [tenantId, userId, id]);
  }
}
