import type { Messages } from '../../i18n';

export const messages: Messages = {
  zh: {
    title: '通知', label: '通知', labelUnread: '通知，{{n}} 条未读', markAllRead: '全部已读', markRead: '标为已读',
    empty: '暂时没有通知。新的提醒会实时出现在这里。', failed: '通知加载失败：{{message}}', live: '实时',
  },
  en: {
    title: 'Notifications', label: 'Notifications', labelUnread: 'Notifications, {{n}} unread', markAllRead: 'Mark all read', markRead: 'Mark read',
    empty: 'No notifications yet. New reminders appear here as they happen.', failed: 'Could not load notifications: {{message}}', live: 'Live',
  },
};
