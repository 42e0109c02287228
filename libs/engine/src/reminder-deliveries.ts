import type { Queryable } from './queryable';

/** A claimed delivery with everything needed to send it. */
export interface ClaimedDelivery {
  id: string;
  attempts: number;
  channel: 'email' | 'wecom' | 'dingtalk' | 'feishu' | 'webhook' | 'wecom_app';
  tenantId: string;
  /** wecom_app: the WeCom member the user is matched to; null when no longer matched */
  wecomUserId: string | null;
  /** email */
  email: string;
  userName: string;
  /** robots and webhooks; null when the target was removed */
  url: string | null;
  secret: string | null;
  locale: 'zh' | 'en';
  kind: string;
  title: string;
  body: string;
  link: string | null;
  data: Record<string, unknown>;
  notificationId: string;
}

/** `attempts` is the claim's (ClaimedDelivery.attempts): it tells this claim from a later one of the same delivery. */
export type DeliveryOutcome =
  | { id: string; attempts: number; result: 'sent' }
  | { id: string; attempts: number; result: 'retry'; error: string; at: Date }
  | { id: string; attempts: number; result: 'failed'; error: string };

/** After this many attempts a delivery stops being retried. */
export const MAX_DELIVERY_ATTEMPTS = 8;

/** Exponential backoff after the n-th failed attempt: 30 s, 1 min, 2 min, ... at most an hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

/**
 * Claims up to `limit` due deliveries (pending and due, or claimed by a worker whose lease ran out). A claim
 * commits at once and moves next_attempt_at to the lease's end, so other workers skip it (SKIP LOCKED while
 * the claim runs, then the time) and a crashed worker's claims come back when the lease ends.
 */
export async function claimDeliveries(
  db: Queryable, { now, limit, leaseMs, onlyTenants }: { now: Date; limit: number; leaseMs: number; onlyTenants?: string[] },
): Promise<ClaimedDelivery[]> {
  return db.query(
    `WITH due AS (
       SELECT id FROM notification_deliveries
        WHERE status IN ('pending', 'sending') AND next_attempt_at <= $1 AND ($4::uuid[] IS NULL OR tenant_id = ANY($4::uuid[]))
        ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED),
     claimed AS (
       UPDATE notification_deliveries d SET status = 'sending', attempts = d.attempts + 1,
              next_attempt_at = $1::timestamptz + make_interval(secs => $3::double precision / 1000)
         FROM due WHERE d.id = due.id
       RETURNING d.id, d.attempts, d.channel, d.target_id, d.notification_id)
     SELECT cl.id::text AS id, cl.attempts, cl.channel, s.email, s.name AS "userName", nt.url, nt.secret, s.locale,
            n.kind, n.title, n.body, n.link, n.data, n.id::text AS "notificationId", n.tenant_id::text AS "tenantId",
            wu.wecom_user_id AS "wecomUserId"
       FROM claimed cl
       JOIN notifications n ON n.id = cl.notification_id
       JOIN user_notification_settings s ON s.user_id = n.user_id
       LEFT JOIN notification_targets nt ON nt.id = cl.target_id
       LEFT JOIN wecom_users wu ON cl.channel = 'wecom_app' AND wu.tenant_id = n.tenant_id AND wu.user_id = n.user_id`,
    [now, limit, leaseMs, onlyTenants ?? null],
  );
}

/**
 * Records how claimed deliveries went, in one statement. A claim that was taken over since (its lease ran
 * out and another worker claimed it again, counting one more attempt) is left alone: the late report must
 * not turn the newer claim's send back into a retry, nor free it for a third claim while it is sending.
 */
export async function finishDeliveries(db: Queryable, outcomes: DeliveryOutcome[]): Promise<void> {
  if (!outcomes.length) return;
  await db.query(
    `UPDATE notification_deliveries d
        SET status = CASE r.result WHEN 'sent' THEN 'sent' WHEN 'retry' THEN 'pending' ELSE 'failed' END,
            sent_at = CASE WHEN r.result = 'sent' THEN now() END,
            last_error = r.error,
            next_attempt_at = coalesce(r.at, d.next_attempt_at)
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::int[]) r(id, result, error, at, attempts)
      WHERE d.id = r.id AND d.status = 'sending' AND d.attempts = r.attempts`,
    [
      outcomes.map((o) => o.id),
      outcomes.map((o) => o.result),
      outcomes.map((o) => ('error' in o ? o.error.slice(0, 1000) : null)),
      outcomes.map((o) => (o.result === 'retry' ? o.at : null)),
      outcomes.map((o) => o.attempts),
    ],
  );
}
