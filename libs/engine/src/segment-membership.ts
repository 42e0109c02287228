import { compileRule, type Rule, SqlParams } from '@sop/domain';
import type { Queryable } from './queryable';

export interface MembershipChanges {
  entered: number;
  exited: number;
}

interface SegmentRow {
  id: string;
  rule: Rule;
}

/**
 * Re-evaluates the given contacts against every saved segment of the tenant in one query, then
 * opens and closes membership rows. The partial unique index on open memberships makes entries
 * happen exactly once even when two evaluations race; only rows this call really changed are
 * announced as `segment.entered` / `segment.exited` outbox events, for the SOP engine.
 */
export async function evaluateMemberships(
  db: Queryable, tenantId: string, contactIds: string[], now = new Date(), onlySegments?: string[],
): Promise<MembershipChanges> {
  if (!contactIds.length) return { entered: 0, exited: 0 };
  const segments: SegmentRow[] = await db.query(
    `SELECT id, rule FROM segments WHERE tenant_id = $1 ${onlySegments ? 'AND id = ANY($2::uuid[])' : ''} ORDER BY id`,
    onlySegments ? [tenantId, onlySegments] : [tenantId],
  );
  if (!segments.length) return { entered: 0, exited: 0 };
  const tagNums = new Map<string, number>(
    (await db.query(`SELECT id, num FROM tags WHERE tenant_id = $1`, [tenantId])).map((r: { id: string; num: number }) => [r.id, r.num]),
  );
  const params = new SqlParams(3);
  const columns = segments.map((s) => compileRule(s.rule, { tagNums, now, params }));
  const ids = segments.map((s) => s.id);
  // One row per (segment, contact) that should be a member now.
  const [counts] = await db.query(
    `WITH evaluated AS (
       SELECT c.id AS contact_id, ARRAY[${columns.map((col) => `(${col})`).join(', ')}]::boolean[] AS hits
         FROM contacts c WHERE c.tenant_id = $1 AND c.id = ANY($2::uuid[])
     ), should AS (
       SELECT s.segment_id, e.contact_id
         FROM evaluated e CROSS JOIN unnest($${params.values.length + 3}::uuid[]) WITH ORDINALITY AS s(segment_id, i)
        WHERE e.hits[s.i]
     ), current AS (
       SELECT segment_id, contact_id FROM segment_memberships
        WHERE contact_id = ANY($2::uuid[]) AND segment_id = ANY($${params.values.length + 3}::uuid[]) AND exited_at IS NULL
     ), entered AS (
       INSERT INTO segment_memberships (tenant_id, segment_id, contact_id)
       SELECT $1::uuid, segment_id, contact_id FROM (SELECT * FROM should EXCEPT SELECT * FROM current) fresh
       ON CONFLICT DO NOTHING
       RETURNING segment_id, contact_id
     ), exited AS (
       UPDATE segment_memberships m SET exited_at = now()
         FROM (SELECT segment_id, contact_id FROM current EXCEPT SELECT segment_id, contact_id FROM should) gone
        WHERE m.segment_id = gone.segment_id AND m.contact_id = gone.contact_id AND m.exited_at IS NULL
       RETURNING m.segment_id, m.contact_id
     ), events AS (
       INSERT INTO domain_events (tenant_id, type, payload)
       SELECT $1::uuid, kind, jsonb_build_object('segmentId', segment_id, 'contactIds', jsonb_agg(contact_id))
         FROM (SELECT 'segment.entered' AS kind, * FROM entered UNION ALL SELECT 'segment.exited', * FROM exited) x
        GROUP BY kind, segment_id
     )
     SELECT (SELECT count(*) FROM entered)::int AS entered, (SELECT count(*) FROM exited)::int AS exited`,
    [tenantId, contactIds, ...params.values, ids],
  );
  return counts;
}

/**
 * (Re)computes one segment's memberships over the whole tenant with set-based SQL, after the segment
 * is saved or its rule changes. Announced as one `segment.populated` event with the counts.
 */
export async function populateSegment(db: Queryable, tenantId: string, segmentId: string, now = new Date()): Promise<MembershipChanges> {
  const [segment] = await db.query(`SELECT rule FROM segments WHERE tenant_id = $1 AND id = $2`, [tenantId, segmentId]);
  if (!segment) return { entered: 0, exited: 0 };
  const tagNums = new Map<string, number>(
    (await db.query(`SELECT id, num FROM tags WHERE tenant_id = $1`, [tenantId])).map((r: { id: string; num: number }) => [r.id, r.num]),
  );
  const params = new SqlParams(3);
  const where = compileRule(segment.rule as Rule, { tagNums, now, params });
  const [counts] = await db.query(
    `WITH should AS (
       SELECT c.id AS contact_id FROM contacts c WHERE c.tenant_id = $1 AND (${where})
     ), exited AS (
       UPDATE segment_memberships m SET exited_at = now()
        WHERE m.segment_id = $2 AND m.exited_at IS NULL AND m.contact_id NOT IN (SELECT contact_id FROM should)
       RETURNING 1
     ), entered AS (
       INSERT INTO segment_memberships (tenant_id, segment_id, contact_id)
       SELECT $1::uuid, $2::uuid, contact_id FROM should
       ON CONFLICT DO NOTHING
       RETURNING 1
     ), counts AS (
       SELECT (SELECT count(*) FROM entered)::int AS entered, (SELECT count(*) FROM exited)::int AS exited
     ), event AS (
       INSERT INTO domain_events (tenant_id, type, payload)
       SELECT $1::uuid, 'segment.populated', jsonb_build_object('segmentId', $2::uuid, 'entered', entered, 'exited', exited) FROM counts
     )
     SELECT * FROM counts`,
    [tenantId, segmentId, ...params.values],
  );
  return counts;
}
