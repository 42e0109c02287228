import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { fail, notFound } from '../../common/errors.catalog';
import { decodeCursor, encodeCursor } from '../../common/pagination';
import type { Principal } from '../../common/principal';
import type { NotificationDto, NotificationPageDto, NotificationsQuery } from './notifications.dto';
import { NOTIFICATIONS_ERRORS } from './notifications.errors';

const ID = /^[1-9]\d{0,17}$/;

export interface NotificationRow {
  id: string; kind: string; title: string; body: string; link: string | null; task_id: string | null; mandatory: boolean;
  data: Record<string, unknown>; created_at: Date; read_at: Date | null;
}

export const NOTIFICATION_COLUMNS = `id::text AS id, kind, title, body, link, task_id::text AS task_id, mandatory, data, created_at, read_at`;

export const toNotificationDto = (r: NotificationRow): NotificationDto => ({
  id: r.id, kind: r.kind, title: r.title, body: r.body, link: r.link, taskId: r.task_id, mandatory: r.mandatory, data: r.data,
  createdAt: r.created_at, readAt: r.read_at,
});

/** A person's notifications: each user sees and marks only their own (anyone else's answers 404). */
@Injectable()
export class NotificationsService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async list(caller: Principal, q: NotificationsQuery): Promise<NotificationPageDto> {
    const userId = personOf(caller);
    const params: unknown[] = [caller.tenantId, userId];
    const where = ['tenant_id = $1', 'user_id = $2'];
    if (q.unread) where.push('read_at IS NULL');
    if (q.cursor) {
      const [at, id] = decodeCursor(q.cursor, ID);
      params.push(at, id);
      where.push(`(created_at, id) < ($3::timestamptz, $4::bigint)`);
    }
    const rows: NotificationRow[] = await this.db.query(
      `SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ${q.limit + 1}`, params);
    const last = rows.length > q.limit ? rows[q.limit - 1] : undefined;
    return { items: rows.slice(0, q.limit).map(toNotificationDto), nextCursor: last ? encodeCursor(last.created_at, last.id) : null };
  }

  async unreadCount(caller: Principal): Promise<number> {
    const [row] = await this.db.query(
      `SELECT count(*)::int AS n FROM notifications WHERE tenant_id = $1 AND user_id = $2 AND read_at IS NULL`, [caller.tenantId, personOf(caller)]);
    return row.n;
  }

  /** Marks one read; repeating it keeps the first read time. */
  async markRead(caller: Principal, id: string): Promise<NotificationDto> {
    if (!ID.test(id)) throw notFound('notification', id);
    const [rows] = await this.db.query(
      `UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE tenant_id = $1 AND user_id = $2 AND id = $3 RETURNING ${NOTIFICATION_COLUMNS}`,
      [caller.tenantId, personOf(caller), id]);
    if (!rows.length) throw notFound('notification', id);
    return toNotificationDto(rows[0]);
  }

  async markAllRead(caller: Principal): Promise<number> {
    const [, updated] = await this.db.query(
      `UPDATE notifications SET read_at = now() WHERE tenant_id = $1 AND user_id = $2 AND read_at IS NULL`, [caller.tenantId, personOf(caller)]);
    return updated;
  }
}

/** Notifications belong to a person: an API key has none. */
export function personOf(caller: Principal): string {
  if (!caller.userId) throw fail(NOTIFICATIONS_ERRORS.NOTIFICATIONS_NEED_A_USER);
  return caller.userId;
}
