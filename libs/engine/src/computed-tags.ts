import { compileRule, type Rule, SqlParams } from '@sop/domain';
import type { Queryable } from './queryable';
import { loadTagNums, refreshTagNums } from './tag-nums';

export interface ComputedCase {
  tagId: string;
  when: Rule;
}

interface RuleRow {
  id: string;
  group_id: string;
  cases: ComputedCase[];
}

/**
 * Applies the tenant's computed-tag rules to the given contacts (or to every contact when ids is
 * null): per rule, the first case whose condition holds decides the one tag the contact has in the
 * rule's exclusive group; no match means none. Only differences are written, with tag events by
 * 'rule'. Returns the contacts whose tags changed (the caller re-evaluates their memberships).
 */
export async function applyComputedTags(
  db: Queryable, tenantId: string, contactIds: string[] | null, now = new Date(), onlyRule?: string,
): Promise<string[]> {
  if (contactIds && !contactIds.length) return [];
  const rules: RuleRow[] = await db.query(
    `SELECT id, group_id, cases FROM computed_tag_rules WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id = $2) ORDER BY id`,
    [tenantId, onlyRule ?? null],
  );
  if (!rules.length) return [];
  const tagNums = await loadTagNums(db, tenantId);
  const changed = new Set<string>();
  for (const rule of rules) {
    for (const id of await applyRule(db, tenantId, contactIds, rule, tagNums, now)) changed.add(id);
  }
  await refreshTagNums(db, tenantId, [...changed]);
  return [...changed];
}

async function applyRule(
  db: Queryable, tenantId: string, contactIds: string[] | null, rule: RuleRow, tagNums: Map<string, number>, now: Date,
): Promise<string[]> {
  const params = new SqlParams(5);
  // Tags a rule references cannot be deleted while it exists (TagsService), so every case compiles.
  const branches = rule.cases.map((c) => `WHEN ${compileRule(c.when, { tagNums, now, params })} THEN ${params.add(tagNums.get(c.tagId))}::int`);
  const [{ changed }] = await db.query(
    `WITH desired AS (
       SELECT c.id AS contact_id, CASE ${branches.join(' ')} ELSE NULL END AS tag_num
         FROM contacts c WHERE c.tenant_id = $1 AND ($2::uuid[] IS NULL OR c.id = ANY($2::uuid[]))
     ), group_tags AS (
       SELECT id, num FROM tags WHERE tenant_id = $1 AND group_id = $3
     ), removed AS (
       DELETE FROM contact_tags ct USING desired d
        WHERE ct.contact_id = d.contact_id AND ct.tag_id IN (SELECT id FROM group_tags)
          AND ct.tag_num IS DISTINCT FROM d.tag_num
       RETURNING ct.contact_id, ct.tag_id
     ), added AS (
       INSERT INTO contact_tags (tenant_id, contact_id, tag_id, tag_num)
       SELECT $1, d.contact_id, g.id, g.num FROM desired d JOIN group_tags g ON g.num = d.tag_num
       ON CONFLICT DO NOTHING
       RETURNING contact_id, tag_id
     ), events AS (
       INSERT INTO tag_events (tenant_id, contact_id, tag_id, action, actor_type, actor_id, reason)
       SELECT $1, contact_id, tag_id, 'removed', 'rule', $4, 'computed tag rule' FROM removed
       UNION ALL SELECT $1, contact_id, tag_id, 'added', 'rule', $4, 'computed tag rule' FROM added
       RETURNING contact_id
     )
     SELECT coalesce(array_agg(DISTINCT contact_id), '{}') AS changed FROM events`,
    [tenantId, contactIds, rule.group_id, rule.id, ...params.values],
  );
  return changed;
}
