import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface NotificationRow {
  id: string; kind: string; title: string; body: string; link: string | null; task_id: string | null; mandatory: boolean;
  data: Record<string, unknown>; created_at: Date; read_at: Date | null;
}

const NOTIFICATION_COLUMNS = `id::text AS id, kind, title, body, link, task_id::text AS task_id, mandatory, data, created_at, read_at`;

/**
 * Ids are taken at INSERT, rows become visible at COMMIT: a long transaction (a reminder sweep) may commit
 * rows below an id already pushed. Rows created this recently are looked at again by id, beyond the last sent.
 */
const LATE_COMMIT = `interval '5 minutes'`;

/**
 * A person's `notifications` rows (the list, the marks, and what the live stream reads): the API's one home for that
 * SQL. Every statement is keyed by the caller's organization and person.
 */
@Injectable()
export class NotificationsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Newest first, `limit` rows from before the cursor's (created_at, id) when there is one. */
  page(tenantId: string, userId: string, q: { unread?: boolean; before?: [string, string]; limit: number }): Promise<NotificationRow[]> {
    const params: unknown[] = [tenantId, userId];
    const where = ['tenant_id = $1', 'user_id = $2'];
    if (q.unread) where.push('read_at IS NULL');
    if (q.before) {
      params.push(...q.before);
      where.push(`(created_at, id) < ($3::timestamptz, $4::bigint)`);
    }
    return this.db.query(
      `SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ${q.limit}`, params);
  }

  async unreadCount(tenantId: string, userId: string): Promise<number> {
    const [row] = await this.db.query(
      `SELECT count(*)::int AS n FROM notifications WHERE tenant_id = $1 AND user_id = $2 AND read_at IS NULL`, [tenantId, userId]);
    return row.n;
  }

  /** Marks one read, keeping the first read time; undefined when the person has no such notification. */
  async markRead(tenantId: string, userId: string, id: string): Promise<NotificationRow | undefined> {
    const [rows] = await this.db.query(
      `UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE tenant_id = $1 AND user_id = $2 AND id = $3 RETURNING ${NOTIFICATION_COLUMNS}`,
      [tenantId, userId, id]);
    return rows[0];
  }

  /** How many it marked. */
  async markAllRead(tenantId: string, userId: string): Promise<number> {
    const [, updated] = await this.db.query(
      `UPDATE notifications SET read_at = now() WHERE tenant_id = $1 AND user_id = $2 AND read_at IS NULL`, [tenantId, userId]);
    return updated;
  }

  /**
   * Where a stream starts: the id given (a browser's Last-Event-ID) or else the newest, and the ids at or below it
   * created recently enough that a late commit could still put rows among them.
   */
  async streamStart(tenantId: string, userId: string, lastEventId: string | null): Promise<{ last: string; recent: string[] }> {
    const [start]: { last: string; recent: string[] }[] = await this.db.query(
      `SELECT x.last, ARRAY(SELECT id::text FROM notifications WHERE tenant_id = $1 AND user_id = $2 AND id <= x.last::bigint
                               AND created_at > now() - ${LATE_COMMIT}) AS recent
         FROM (SELECT coalesce($3::bigint, (SELECT max(id) FROM notifications WHERE user_id = $2), 0)::text AS last) x`,
      [tenantId, userId, lastEventId]);
    return start;
  }

  /** Rows after `lastId`, and recent rows below it not in `seen` (committed late), by id, at most `limit`. */
  streamNext(tenantId: string, userId: string, lastId: string, seen: string[], limit: number): Promise<NotificationRow[]> {
    return this.db.query(
      `SELECT ${NOTIFICATION_COLUMNS} FROM notifications
            WHERE tenant_id = $1 AND user_id = $2
              AND (id > $3 OR (created_at > now() - ${LATE_COMMIT} AND NOT id = ANY($4::bigint[])))
            ORDER BY id LIMIT ${limit}`,
      [tenantId, userId, lastId, seen]);
  }
}
