import { BellOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Badge, Button, Empty, Flex, Popover, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api, call, type Schemas } from '../../api/client';
import { addMessages } from '../../i18n';
import { errorText } from '../../lib/errors';
import { formatDateTime } from '../../lib/time';
import { messages } from './messages';
import { useMessage } from '../../app/feedback';
import { consolePath } from '../../app/links';

addMessages('notifications', messages);

type Notification = Schemas['NotificationDto'];
const UNREAD = ['notifications', 'unread'];
const RECENT = ['notifications', 'recent'];

/** The bell: unread count, the latest notifications, and new ones live over server-sent events. */
export function NotificationBell() {
  const { t } = useTranslation('notifications');
  const [open, setOpen] = useState(false);
  const queries = useQueryClient();
  const unread = useQuery({ queryKey: UNREAD, queryFn: () => call(api.GET('/api/notifications/unread-count')), refetchInterval: 120_000 });
  const recent = useQuery({ queryKey: RECENT, enabled: open, queryFn: () => call(api.GET('/api/notifications', { params: { query: { limit: 20 } } })) });
  useLiveNotifications();
  const count = unread.data?.unread ?? 0;

  const refresh = () => void queries.invalidateQueries({ queryKey: ['notifications'] });
  return (
    <Popover
      open={open}
      onOpenChange={setOpen}
      trigger="click"
      placement="bottomRight"
      title={
        <Flex justify="space-between" align="center">
          <span>{t('title')}</span>
          <Button size="small" type="link" disabled={!count} onClick={() => void call(api.POST('/api/notifications/read-all')).then(refresh)}>{t('markAllRead')}</Button>
        </Flex>
      }
      content={<NotificationList items={recent.data?.items} error={recent.error} onRead={refresh} onOpen={() => setOpen(false)} />}
    >
      <Button type="text" className="shell-header-button" aria-label={count ? t('labelUnread', { n: count }) : t('label')} data-testid="bell">
        <Badge count={count} size="small" offset={[4, -2]} data-testid="bell-count"><BellOutlined style={{ fontSize: 18, color: 'rgba(255,255,255,0.88)' }} /></Badge>
      </Button>
    </Popover>
  );
}

function NotificationList({ items, error, onRead, onOpen }: { items?: Notification[]; error: unknown; onRead(): void; onOpen(): void }) {
  const { t } = useTranslation('notifications');
  const navigate = useNavigate();
  if (error) return <Typography.Text type="danger">{t('failed', { message: errorText(error) })}</Typography.Text>;
  if (!items) return <div style={{ width: 320, height: 80 }} />;
  if (!items.length) return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('empty')} style={{ width: 320 }} />;
  const read = (n: Notification) => (n.readAt ? Promise.resolve() : call(api.POST('/api/notifications/{id}/read', { params: { path: { id: n.id } } })).then(onRead));
  return (
    <ul className="bell-list" data-testid="bell-list">
      {items.map((n) => (
        <li key={n.id} className={n.readAt ? 'bell-item' : 'bell-item bell-item-unread'}>
          <button type="button" className="bell-item-open" onClick={() => {
            void read(n);
            onOpen();
            if (n.link) navigate(consolePath(n.link));
          }}>
            <Typography.Text strong={!n.readAt}>{n.title}</Typography.Text>
            <Typography.Paragraph type="secondary" ellipsis={{ rows: 2 }} style={{ margin: 0 }}>{n.body}</Typography.Paragraph>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>{formatDateTime(n.createdAt)}</Typography.Text>
          </button>
          {!n.readAt && <Button size="small" type="link" onClick={() => void read(n)}>{t('markRead')}</Button>}
        </li>
      ))}
    </ul>
  );
}

/**
 * Opens the notification stream: EventSource cannot send the Authorization header, so a one-minute ticket
 * opens it, once (tickets are single-use); a dropped stream (a server restart) reconnects with a new ticket.
 */
function useLiveNotifications() {
  const queries = useQueryClient();
  const message = useMessage();
  useEffect(() => {
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    let opened = 0;
    const connect = async () => {
      try {
        const { streamPath } = await call(api.POST('/api/notifications/stream-tickets'));
        if (stopped) return;
        source = new EventSource(streamPath);
        source.addEventListener('ready', () => {
          document.body.dataset.notificationStream = 'open';
          // after a reconnect, whatever came meanwhile is read again
          if (opened++ > 0) void queries.invalidateQueries({ queryKey: ['notifications'] });
        });
        source.addEventListener('notification', (e) => {
          const n = JSON.parse((e as MessageEvent).data) as Notification;
          message.info(n.title);
          void queries.invalidateQueries({ queryKey: ['notifications'] });
          void queries.invalidateQueries({ queryKey: ['inbox'] }); // a reminder often means the lists moved
        });
        source.onerror = () => {
          // tickets are single-use: the browser's own reconnect would send the spent one, so reconnect with a new ticket
          source?.close();
          document.body.dataset.notificationStream = 'closed';
          retry = setTimeout(connect, 1000);
        };
      } catch {
        if (!stopped) retry = setTimeout(connect, 15_000);
      }
    };
    void connect();
    return () => {
      stopped = true;
      clearTimeout(retry);
      source?.close();
    };
  }, [queries, message]);
}
