/**
 * Tasks whose content could not be rendered are written `held`, with the reason and no content, and the
 * tenant's ops and admins are told once per SOP version and reason (the dedupe key), not once per task, in
 * the page's transaction (so a retried page tells nobody twice).
 */
import type { Queryable } from './queryable';
import { insertNotificationsSql } from './reminders';

/** %1$s SOP name, %2$s the reason (as the engine words it, in English). */
const HELD_MESSAGES = {
  zh: { title: 'SOP「%1$s」有任务被暂扣', body: '步骤内容无法生成，任务已暂扣、未派给员工：%2$s。请在 SOP 页面修改内容模板。' },
  en: { title: 'Tasks of SOP "%1$s" are held', body: 'A step\'s content could not be rendered, so its tasks were held and not given to anyone: %2$s. Fix the template on the SOP\'s page.' },
};

export async function notifyHeld(m: Queryable, tenantId: string, sopId: string, versionId: string, reasons: string[]): Promise<void> {
  if (!reasons.length) return;
  const t = HELD_MESSAGES;
  await m.query(insertNotificationsSql(`
    SELECT u.tenant_id, u.id AS user_id, 'task_held' AS kind, 'task_held:' || $3::text || ':' || md5(r.reason) AS dedupe_key,
           format(CASE s.locale WHEN 'zh' THEN $5 ELSE $6 END, so.name, r.reason) AS title,
           format(CASE s.locale WHEN 'zh' THEN $7 ELSE $8 END, so.name, r.reason) AS body,
           '/sops/' || so.id AS link, NULL::bigint AS task_id, false AS mandatory,
           jsonb_build_object('sopId', so.id, 'versionId', $3::uuid, 'reason', r.reason) AS data
      FROM users u
      JOIN user_notification_settings s ON s.user_id = u.id AND s.disabled_at IS NULL
      JOIN sops so ON so.tenant_id = u.tenant_id AND so.id = $2
     CROSS JOIN unnest($4::text[]) AS r(reason)
     WHERE u.tenant_id = $1 AND u.role IN ('admin', 'ops') AND u.disabled_at IS NULL`, 'now()'),
  [tenantId, sopId, versionId, [...new Set(reasons)], t.zh.title, t.en.title, t.zh.body, t.en.body]);
}

/** Tells ops about the held tasks of a page whose tasks may be of several versions (reasons null: not held). */
export async function notifyHeldByVersion(m: Queryable, tenantId: string, sopId: string, versionIds: string[], reasons: (string | null)[]): Promise<void> {
  const held = new Map<string, Set<string>>();
  reasons.forEach((r, i) => {
    if (r) held.set(versionIds[i], (held.get(versionIds[i]) ?? new Set()).add(r));
  });
  for (const [versionId, rs] of held) await notifyHeld(m, tenantId, sopId, versionId, [...rs]);
}
