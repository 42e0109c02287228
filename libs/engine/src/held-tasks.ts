/**
 * A task is written `held`, with the reason and given to nobody, when its content could not be rendered or (a
 * recurring or broadcast task) no day within a week had room under the contact caps and executor capacities. The
 * tenant's ops and admins are told once per SOP version and reason (the dedupe key), not once per task, in the
 * page's transaction (so a retried page tells nobody twice).
 */
import type { Queryable } from './queryable';
import { insertNotificationsSql } from './reminders';

/** How a hold for want of room begins its reason ("no room within 7 days: executor capacity"). */
export const NO_ROOM = 'no room within';

/** %1$s SOP name, %2$s the reason. */
const HELD_MESSAGES = {
  render: {
    zh: { title: 'SOP「%1$s」有任务被暂扣', body: '步骤内容无法生成，任务已暂扣、未派给员工：%2$s。请在 SOP 页面修改内容模板。' },
    en: { title: 'Tasks of SOP "%1$s" are held', body: 'A step\'s content could not be rendered, so its tasks were held and not given to anyone: %2$s. Fix the template on the SOP\'s page.' },
  },
  room: {
    zh: { title: 'SOP「%1$s」有任务因名额已满被暂扣',
      body: '一周内每天的联系人上限或执行人每日容量都已满，任务已暂扣、未派给员工：%2$s。有空位时会自动派发（最多再等一周）；也可提高设置中的联系人上限或 SOP 的每日容量。' },
    en: { title: 'Tasks of SOP "%1$s" are held for want of room',
      body: 'Every day of the week ahead was full under the contact caps or the executors\' daily capacity, so tasks were held and not given to anyone: %2$s. They are given out as soon as room appears (for up to a week); raising the contact cap in settings or the SOP\'s daily capacity makes room.' },
  },
};

export async function notifyHeld(m: Queryable, tenantId: string, sopId: string, versionId: string, reasons: string[]): Promise<void> {
  const distinct = [...new Set(reasons)];
  if (!distinct.length) return;
  const texts = distinct.map((r) => HELD_MESSAGES[r.startsWith(NO_ROOM) ? 'room' : 'render']);
  // The engine words a reason in English; a hold for want of room is said in Chinese too (a render error is not).
  const zhReasons = distinct.map((r) => r.startsWith(NO_ROOM)
    ? r.replace(/^no room within (\d+) days: /, '$1 天内没有空位：').replace('contact cap', '联系人上限').replace('executor capacity', '执行人每日容量') : r);
  await m.query(insertNotificationsSql(`
    SELECT u.tenant_id, u.id AS user_id, 'task_held' AS kind, 'task_held:' || $3::text || ':' || md5(r.reason) AS dedupe_key,
           format(CASE s.locale WHEN 'zh' THEN r.zh_title ELSE r.en_title END, so.name, r.reason) AS title,
           format(CASE s.locale WHEN 'zh' THEN r.zh_body ELSE r.en_body END, so.name, CASE s.locale WHEN 'zh' THEN r.zh_reason ELSE r.reason END) AS body,
           '/sops/' || so.id AS link, NULL::bigint AS task_id, false AS mandatory,
           jsonb_build_object('sopId', so.id, 'versionId', $3::uuid, 'reason', r.reason) AS data
      FROM users u
      JOIN user_notification_settings s ON s.user_id = u.id AND s.disabled_at IS NULL
      JOIN sops so ON so.tenant_id = u.tenant_id AND so.id = $2
     CROSS JOIN unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
             AS r(reason, zh_title, en_title, zh_body, en_body, zh_reason)
     WHERE u.tenant_id = $1 AND u.role IN ('admin', 'ops') AND u.disabled_at IS NULL`, 'now()'),
  [tenantId, sopId, versionId, distinct, texts.map((t) => t.zh.title), texts.map((t) => t.en.title),
    texts.map((t) => t.zh.body), texts.map((t) => t.en.body), zhReasons]);
}

/** Tells ops about the held tasks of a page whose tasks may be of several versions (reasons null: not held). */
export async function notifyHeldByVersion(m: Queryable, tenantId: string, sopId: string, versionIds: string[], reasons: (string | null)[]): Promise<void> {
  const held = new Map<string, Set<string>>();
  reasons.forEach((r, i) => {
    if (r) held.set(versionIds[i], (held.get(versionIds[i]) ?? new Set()).add(r));
  });
  for (const [versionId, rs] of held) await notifyHeld(m, tenantId, sopId, versionId, [...rs]);
}
