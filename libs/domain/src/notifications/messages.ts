import type { Locale, NotificationKind } from './preferences';

/**
 * What each reminder says, in both locales. Texts are Postgres format() templates, so the planner renders
 * thousands of rows in the statement that inserts them, each in its user's locale. Arguments:
 * - due_soon, escalation: %1$s who (contact or group), %2$s SOP, %3$s step, %4$s window end (local), %5$s executor
 * - material_opened: %1$s who, %2$s material, %3$s SOP
 * - digest title: %1$s tasks in the inbox's Today list at the digest's time (what its badge shows then, snoozed tasks
 *   not yet back left out); digest line: %1$s SOP, %2$s count, %3$s first contacts
 * - manager_digest (yesterday's completion of the manager's teams, docs/dashboards.md measures) title: %1$s done,
 *   %2$s closed, %3$s completion percent; line: %1$s employee, %2$s done, %3$s closed, %4$s percent, %5$s still pending
 */
export const MESSAGES: Record<Exclude<NotificationKind, 'digest' | 'manager_digest'>, Record<Locale, { title: string; body: string }>> & {
  digest: Record<Locale, { title: string; line: string; more: string; separator: string }>;
  manager_digest: Record<Locale, { title: string; line: string }>;
} = {
  manager_digest: {
    zh: { title: '昨日团队完成：%1$s/%2$s 项（%3$s%%）', line: '%1$s：完成 %2$s/%3$s（%4$s%%），未完成 %5$s' },
    en: { title: 'Yesterday your team did %1$s of %2$s tasks (%3$s%%)', line: '%1$s: %2$s of %3$s done (%4$s%%), %5$s still pending' },
  },
  digest: {
    zh: { title: '今日任务：共 %1$s 项', line: '%1$s：%2$s 项（%3$s）', more: '等', separator: '、' },
    en: { title: 'Today: %1$s tasks', line: '%1$s: %2$s (%3$s)', more: ', …', separator: ', ' },
  },
  due_soon: {
    zh: { title: '任务即将截止：%1$s', body: '%2$s「%3$s」将于 %4$s 截止，请尽快完成。' },
    en: { title: 'Due soon: %1$s', body: '%2$s "%3$s" closes at %4$s: please finish it soon.' },
  },
  escalation: {
    zh: { title: '团队任务逾期：%5$s', body: '%5$s 的任务 %1$s（%2$s「%3$s」）已于 %4$s 截止，仍未完成。' },
    en: { title: 'Overdue in your team: %5$s', body: '%5$s has not done %1$s (%2$s "%3$s"), which closed at %4$s.' },
  },
  material_opened: {
    zh: { title: '%1$s 打开了「%2$s」', body: '%1$s 刚刚打开了你发送的「%2$s」（%3$s），现在跟进正是时候。' },
    en: { title: '%1$s opened "%2$s"', body: '%1$s just opened "%2$s" that you sent (%3$s): a good moment to follow up.' },
  },
};

/**
 * Where a notification leads in the console (paths of its routes). Links sent before the console had
 * routes (`/#/inbox/tasks/ID`, `/#/inbox?list=today`) still open: the console rewrites them on load.
 */
export const APP_LINKS = {
  /** the executor's own task */
  task: (taskId: string) => `/inbox?task=${taskId}`,
  /** a task of someone in the manager's team */
  teamTask: (taskId: string) => `/team?task=${taskId}`,
  today: '/inbox?list=today',
  /** the manager's team dashboard (the console's route for it) */
  teamDashboard: '/dashboards/team',
};
