import { Injectable } from '@nestjs/common';
import { fail, notFound } from '../../common/errors.catalog';
import { decodeCursor, encodeCursor } from '../../common/pagination';
import type { Principal } from '../../common/principal';
import type { NotificationDto, NotificationPageDto, NotificationsQuery } from './notifications.dto';
import { NOTIFICATIONS_ERRORS } from './notifications.errors';
import { type NotificationRow, NotificationsRepository } from './notifications.repository';

const ID = /^[1-9]\d{0,17}$/;

export const toNotificationDto = (r: NotificationRow): NotificationDto => ({
  id: r.id, kind: r.kind, title: r.title, body: r.body, link: r.link, taskId: r.task_id, mandatory: r.mandatory, data: r.data,
  createdAt: r.created_at, readAt: r.read_at,
});

/** A person's notifications: each user sees and marks only their own (anyone else's answers 404). */
@Injectable()
export class NotificationsService {
  constructor(private readonly notifications: NotificationsRepository) {}

  async list(caller: Principal, q: NotificationsQuery): Promise<NotificationPageDto> {
    const userId = personOf(caller);
    const before = q.cursor ? decodeCursor(q.cursor, ID) : undefined;
    const rows = await this.notifications.page(caller.tenantId, userId, { unread: q.unread, before, limit: q.limit + 1 });
    const last = rows.length > q.limit ? rows[q.limit - 1] : undefined;
    return { items: rows.slice(0, q.limit).map(toNotificationDto), nextCursor: last ? encodeCursor(last.created_at, last.id) : null };
  }

  async unreadCount(caller: Principal): Promise<number> {
    return this.notifications.unreadCount(caller.tenantId, personOf(caller));
  }

  /** Marks one read; repeating it keeps the first read time. */
  async markRead(caller: Principal, id: string): Promise<NotificationDto> {
    if (!ID.test(id)) throw notFound('notification', id);
    const row = await this.notifications.markRead(caller.tenantId, personOf(caller), id);
    if (!row) throw notFound('notification', id);
    return toNotificationDto(row);
  }

  async markAllRead(caller: Principal): Promise<number> {
    return this.notifications.markAllRead(caller.tenantId, personOf(caller));
  }
}

/** Notifications belong to a person: an API key has none. */
export function personOf(caller: Principal): string {
  if (!caller.userId) throw fail(NOTIFICATIONS_ERRORS.NOTIFICATIONS_NEED_A_USER);
  return caller.userId;
}
