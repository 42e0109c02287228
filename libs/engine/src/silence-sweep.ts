import { type Rule, walk } from '@sop/domain';
import { contactsChanged } from './contacts-changed';
import type { Queryable } from './queryable';

const COLUMNS: Record<string, string> = { lastContacted: 'last_contacted_at', lastResponded: 'last_responded_at', lastOrder: 'last_order_at' };
const DAY_MS = 86_400_000;
const PAGE = 5000;

export interface TransactionalDb extends Queryable {
  transaction<T>(run: (m: Queryable) => Promise<T>): Promise<T>;
}

export interface SweepResult {
  tenants: number;
  contacts: number;
}

/**
 * "Silent for 14 days" becomes true by the clock alone, with no change to the contact. For every
 * (field, N days) a tenant's segments and computed-tag rules use, the contacts whose time crossed
 * now − N days since the last sweep are re-evaluated: an indexed range per pair, not a timer per
 * contact. A contact that was never contacted (NULL) is silent from the start and needs no sweep.
 */
export async function sweepSilence(db: TransactionalDb, now = new Date(), onlyTenants?: string[]): Promise<SweepResult> {
  const rows: { tenant_id: string; rules: Rule[]; swept_at: Date | null }[] = await db.query(
    `SELECT r.tenant_id, jsonb_agg(r.rule) AS rules, s.swept_at
       FROM (SELECT tenant_id, rule FROM segments WHERE cardinality(time_fields) > 0
             UNION ALL SELECT tenant_id, c -> 'when' FROM computed_tag_rules, jsonb_array_elements(cases) c) r
       LEFT JOIN silence_sweeps s ON s.tenant_id = r.tenant_id
      WHERE $1::uuid[] IS NULL OR r.tenant_id = ANY($1::uuid[])
      GROUP BY r.tenant_id, s.swept_at`,
    [onlyTenants ?? null],
  );
  let contacts = 0;
  for (const { tenant_id: tenantId, rules, swept_at } of rows) {
    // A tenant never swept looks back one day; population at save time covered everything before.
    const since = swept_at ?? new Date(now.getTime() - DAY_MS);
    const ids = await crossed(db, tenantId, thresholds(rules), since, now);
    for (let i = 0; i < ids.length; i += PAGE) {
      await db.transaction((m) => contactsChanged(m, tenantId, ids.slice(i, i + PAGE), now));
    }
    await db.query(
      `INSERT INTO silence_sweeps (tenant_id, swept_at) VALUES ($1, $2)
       ON CONFLICT (tenant_id) DO UPDATE SET swept_at = GREATEST(silence_sweeps.swept_at, EXCLUDED.swept_at)`,
      [tenantId, now],
    );
    contacts += ids.length;
  }
  return { tenants: rows.length, contacts };
}

/** The distinct (column, days) pairs of every daysSince predicate in the rules. */
function thresholds(rules: Rule[]): [string, number][] {
  const pairs = new Map<string, [string, number]>();
  for (const rule of rules) {
    walk(rule, (p) => {
      if ('daysSince' in p) pairs.set(`${p.daysSince.field}:${p.daysSince.days}`, [COLUMNS[p.daysSince.field], p.daysSince.days]);
    });
  }
  return [...pairs.values()];
}

async function crossed(db: Queryable, tenantId: string, pairs: [string, number][], since: Date, now: Date): Promise<string[]> {
  if (!pairs.length) return [];
  const params: unknown[] = [tenantId];
  const ranges = pairs.map(([column, days]) => {
    params.push(new Date(since.getTime() - days * DAY_MS).toISOString(), new Date(now.getTime() - days * DAY_MS).toISOString());
    return `SELECT id FROM contacts WHERE tenant_id = $1 AND ${column} > $${params.length - 1} AND ${column} <= $${params.length}`;
  });
  return (await db.query(ranges.join(' UNION '), params)).map((r: { id: string }) => r.id);
}
