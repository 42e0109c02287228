import type { Queryable } from './queryable';

/** The tenant's tags as id -> number, the form rules are validated and compiled with. */
export async function loadTagNums(db: Queryable, tenantId: string): Promise<Map<string, number>> {
  const rows: { id: string; num: number }[] = await db.query(`SELECT id, num FROM tags WHERE tenant_id = $1`, [tenantId]);
  return new Map(rows.map((r) => [r.id, r.num]));
}

/**
 * Rebuilds the searchable contacts.tag_nums copy from contact_tags for the given contacts and
 * announces the change in the outbox. Callers then re-evaluate memberships.
 */
export async function refreshTagNums(db: Queryable, tenantId: string, contactIds: string[]): Promise<void> {
  if (!contactIds.length) return;
  await db.query(
    `WITH updated AS (
       UPDATE contacts c SET updated_at = now(), tag_nums = coalesce(
         (SELECT array_agg(ct.tag_num ORDER BY ct.tag_num) FROM contact_tags ct WHERE ct.contact_id = c.id), '{}')
        WHERE c.tenant_id = $1 AND c.id = ANY($2::uuid[])
       RETURNING c.id
     )
     INSERT INTO domain_events (tenant_id, type, payload)
     SELECT $1, 'contact.tags_changed', jsonb_build_object('contactIds', jsonb_agg(id)) FROM updated HAVING count(*) > 0`,
    [tenantId, contactIds],
  );
}
