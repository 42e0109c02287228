/**
 * Purchases from other systems: each order counts once (keyed by order id per tenant) in the contact's
 * order count, total spend, 30-day spend and last order time. A purchase leaves the 30-day spend when it
 * is 30 days old: `ageSpend30d`, run by the worker's periodic sweep, takes it out exactly once (the
 * purchase row's `in_30d` flag is cleared in the same statement).
 */
import { contactsChanged } from './contacts-changed';
import type { Queryable } from './queryable';
import type { TransactionalDb } from './silence-sweep';

export interface Purchase {
  orderId: string;
  amount: number;
  currency: string;
  orderedAt: Date;
}

const METRIC_FIELDS = ['orderCount', 'totalSpend', 'spend30d', 'lastOrderAt'];
const AGE_PAGE = 5000;

/** In the caller's transaction. False when the order was recorded before (nothing changes). */
export async function recordPurchase(m: Queryable, tenantId: string, contactId: string, p: Purchase, now = new Date()): Promise<boolean> {
  const [row] = await m.query(
    `INSERT INTO purchases (tenant_id, order_id, contact_id, amount, currency, ordered_at, in_30d)
     VALUES ($1, $2, $3, $4, $5, $6, $6::timestamptz > $7::timestamptz - interval '30 days')
     ON CONFLICT (tenant_id, order_id) DO NOTHING RETURNING in_30d`,
    [tenantId, p.orderId, contactId, p.amount, p.currency, p.orderedAt, now],
  );
  if (!row) return false;
  await m.query(
    `UPDATE contacts SET order_count = order_count + 1, total_spend = total_spend + $3,
            spend_30d = spend_30d + CASE WHEN $4 THEN $3::numeric ELSE 0 END,
            last_order_at = greatest(last_order_at, $5), updated_at = now()
      WHERE tenant_id = $1 AND id = $2`,
    [tenantId, contactId, p.amount, row.in_30d, p.orderedAt],
  );
  await m.query(`INSERT INTO domain_events (tenant_id, type, payload) VALUES ($1, 'contact.updated', $2)`, [
    tenantId, { contactIds: [contactId], fields: METRIC_FIELDS, orderId: p.orderId }]);
  await contactsChanged(m, tenantId, [contactId], now);
  return true;
}

/**
 * Takes purchases that turned 30 days old out of their contacts' 30-day spend, a page per transaction,
 * announces the change and lets computed tags and segments follow. Returns the contacts changed. Only the
 * purchases of `onlyTenants` when given (tests); every tenant's when absent.
 */
export async function ageSpend30d(db: TransactionalDb, now = new Date(), onlyTenants?: string[]): Promise<number> {
  let changed = 0;
  // a condition only when scoped, so the unscoped sweep's plan stays the one its index serves
  const scoped = onlyTenants ? ' AND tenant_id = ANY($3::uuid[])' : '';
  for (;;) {
    const contacts = await db.transaction(async (m) => {
      // An UPDATE answers [rows, count].
      const [rows]: [{ tenant_id: string; id: string }[], number] = await m.query(
        `WITH aged AS (
           UPDATE purchases p SET in_30d = false
             FROM (SELECT tenant_id, order_id FROM purchases WHERE in_30d AND ordered_at <= $1::timestamptz - interval '30 days'${scoped}
                    ORDER BY ordered_at LIMIT $2 FOR UPDATE SKIP LOCKED) x
            WHERE p.tenant_id = x.tenant_id AND p.order_id = x.order_id
           RETURNING p.tenant_id, p.contact_id, p.amount
         ), per_contact AS (
           SELECT tenant_id, contact_id, sum(amount) AS amount FROM aged GROUP BY 1, 2
         )
         UPDATE contacts c SET spend_30d = greatest(c.spend_30d - a.amount, 0), updated_at = now()
           FROM per_contact a WHERE c.tenant_id = a.tenant_id AND c.id = a.contact_id
         RETURNING c.tenant_id, c.id`,
        onlyTenants ? [now, AGE_PAGE, onlyTenants] : [now, AGE_PAGE],
      );
      for (const [tenantId, ids] of byTenant(rows)) {
        await m.query(`INSERT INTO domain_events (tenant_id, type, payload) VALUES ($1, 'contact.updated', $2)`, [
          tenantId, { contactIds: ids, fields: ['spend30d'] }]);
        await contactsChanged(m, tenantId, ids, now);
      }
      return rows.length;
    });
    changed += contacts;
    if (!contacts) return changed;
  }
}

function byTenant(rows: { tenant_id: string; id: string }[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const r of rows) map.set(r.tenant_id, [...(map.get(r.tenant_id) ?? []), r.id]);
  return map;
}
