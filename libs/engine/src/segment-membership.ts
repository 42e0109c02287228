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
 * Re-evaluates the given contacts against every saved segment of the tenant. One read query gives,
 * per contact, which segments it matches now and which it is a member of; only a difference is
 * written. The partial unique index on open memberships makes entries happen exactly once even when
 * two evaluations race; only rows this call really changed are announced as `segment.entered` /
 * `segment.exited` outbox events, for the SOP engine.
 */
export async function evaluateMemberships(
  db: Queryable, tenantId: string, contactIds: string[], now = new Date(), onlySegments?: string[],
): Promise<MembershipChanges> {
  if (!contactIds.length) return { entered: 0, exited: 0 };
  const { segments, tagNums } = await loadRules(db, tenantId, onlySegments);
  if (!segments.length) return { entered: 0, exited: 0 };
  const ids = segments.map((s) => s.id);
  const params = new SqlParams(4);
  const columns = segments.map((s) => `(${compileRule(s.rule, { tagNums, now, params })})`);
  const rows: { id: string; hits: boolean[]; current: string[] }[] = await db.query(
    `SELECT c.id, ARRAY[${columns.join(', ')}]::boolean[] AS hits,
            ARRAY(SELECT m.segment_id FROM segment_memberships m
                   WHERE m.contact_id = c.id AND m.exited_at IS NULL AND m.segment_id = ANY($3::uuid[])) AS current
       FROM contacts c WHERE c.tenant_id = $1 AND c.id = ANY($2::uuid[])`,
    [tenantId, contactIds, ids, ...params.values],
  );
  const enter: [string, string][] = [];
  const exit: [string, string][] = [];
  for (const row of rows) {
    const current = new Set(row.current);
    ids.forEach((segmentId, i) => {
      if (row.hits[i] && !current.has(segmentId)) enter.push([segmentId, row.id]);
      if (!row.hits[i] && current.has(segmentId)) exit.push([segmentId, row.id]);
    });
  }
  return enter.length || exit.length ? writeChanges(db, tenantId, enter, exit) : { entered: 0, exited: 0 };
}

/** The tenant's segment rules and tag numbers, in one round trip. */
async function loadRules(db: Queryable, tenantId: string, onlySegments?: string[]) {
  const [row] = await db.query(
    `SELECT coalesce((SELECT json_agg(json_build_object('id', s.id, 'rule', s.rule) ORDER BY s.id) FROM segments s
                       WHERE s.tenant_id = $1 AND ($2::uuid[] IS NULL OR s.id = ANY($2::uuid[]))), '[]') AS segments,
            coalesce((SELECT json_object_agg(t.id, t.num) FROM tags t WHERE t.tenant_id = $1), '{}') AS tags`,
    [tenantId, onlySegments ?? null],
  );
  return { segments: row.segments as SegmentRow[], tagNums: new Map<string, number>(Object.entries(row.tags as Record<string, number>)) };
}

async function writeChanges(db: Queryable, tenantId: string, enter: [string, string][], exit: [string, string][]): Promise<MembershipChanges> {
  const [counts] = await db.query(
    `WITH entered AS (
       INSERT INTO segment_memberships (tenant_id, segment_id, contact_id)
       SELECT $1, s, c FROM unnest($2::uuid[], $3::uuid[]) AS x(s, c)
       ON CONFLICT DO NOTHING
       RETURNING segment_id, contact_id
     ), exited AS (
       UPDATE segment_memberships m SET exited_at = now()
         FROM unnest($4::uuid[], $5::uuid[]) AS x(s, c)
        WHERE m.segment_id = x.s AND m.contact_id = x.c AND m.exited_at IS NULL
       RETURNING m.segment_id, m.contact_id
     ), events AS (
       INSERT INTO domain_events (tenant_id, type, payload)
       SELECT $1, kind, jsonb_build_object('segmentId', segment_id, 'contactIds', jsonb_agg(contact_id))
         FROM (SELECT 'segment.entered' AS kind, * FROM entered UNION ALL SELECT 'segment.exited', * FROM exited) x
        GROUP BY kind, segment_id
     )
     SELECT (SELECT count(*) FROM entered)::int AS entered, (SELECT count(*) FROM exited)::int AS exited`,
    [tenantId, enter.map((p) => p[0]), enter.map((p) => p[1]), exit.map((p) => p[0]), exit.map((p) => p[1])],
  );
  return counts;
}

/**
 * (Re)computes one segment's memberships over the whole tenant with set-based SQL, after the segment
 * is saved or its rule changes. Announced as one `segment.populated` event with the counts.
 */
export async function populateSegment(db: Queryable, tenantId: string, segmentId: string, now = new Date()): Promise<MembershipChanges> {
  const { segments: [segment], tagNums } = await loadRules(db, tenantId, [segmentId]);
  if (!segment) return { entered: 0, exited: 0 };
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

/** Contacts per `segment.entered` / `segment.exited` event written by the set-based evaluation. */
const EVENT_CONTACTS = 5000;

/**
 * The set-based twin of `evaluateMemberships`, for many contacts at once (a CSV import chunk): one
 * statement evaluates every saved segment for the given contacts, compares with their open
 * memberships and writes only the differences, with the same `segment.entered` / `segment.exited`
 * outbox events (one per segment and kind, at most 5,000 contacts each). Nothing travels back to
 * the application but the counts. Exactly-once entry rests on the same partial unique index.
 */
export async function evaluateMembershipsSet(
  db: Queryable, tenantId: string, contactIds: string[], now = new Date(), onlySegments?: string[],
): Promise<MembershipChanges> {
  if (!contactIds.length) return { entered: 0, exited: 0 };
  const { segments, tagNums } = await loadRules(db, tenantId, onlySegments);
  if (!segments.length) return { entered: 0, exited: 0 };
  const params = new SqlParams(4);
  const columns = segments.map((s) => `(${compileRule(s.rule, { tagNums, now, params })})`);
  const [counts] = await db.query(
    `WITH ids AS (
       SELECT DISTINCT id FROM unnest($2::uuid[]) AS x(id)
     ), hits AS (
       SELECT c.id, ARRAY[${columns.join(', ')}]::boolean[] AS hits
         FROM contacts c JOIN ids ON ids.id = c.id WHERE c.tenant_id = $1
     ), wanted AS (
       SELECT ($3::uuid[])[p.i] AS segment_id, h.id AS contact_id
         FROM hits h CROSS JOIN LATERAL unnest(array_positions(h.hits, true)) AS p(i)
     ), current AS (
       SELECT m.segment_id, m.contact_id FROM segment_memberships m JOIN ids ON ids.id = m.contact_id
        WHERE m.exited_at IS NULL AND m.segment_id = ANY($3::uuid[])
     ), entered AS (
       INSERT INTO segment_memberships (tenant_id, segment_id, contact_id)
       SELECT $1, segment_id, contact_id FROM (SELECT * FROM wanted EXCEPT ALL SELECT * FROM current) x
       ON CONFLICT DO NOTHING
       RETURNING segment_id, contact_id
     ), exited AS (
       UPDATE segment_memberships m SET exited_at = now()
         FROM (SELECT * FROM current EXCEPT ALL SELECT * FROM wanted) x
        WHERE m.segment_id = x.segment_id AND m.contact_id = x.contact_id AND m.exited_at IS NULL
       RETURNING m.segment_id, m.contact_id
     ), changed AS (
       SELECT kind, segment_id, contact_id,
              (row_number() OVER (PARTITION BY kind, segment_id) - 1) / ${EVENT_CONTACTS} AS part
         FROM (SELECT 'segment.entered' AS kind, * FROM entered UNION ALL SELECT 'segment.exited', * FROM exited) x
     ), events AS (
       INSERT INTO domain_events (tenant_id, type, payload)
       SELECT $1, kind, jsonb_build_object('segmentId', segment_id, 'contactIds', jsonb_agg(contact_id))
         FROM changed GROUP BY kind, segment_id, part
     )
     SELECT (SELECT count(*) FROM entered)::int AS entered, (SELECT count(*) FROM exited)::int AS exited`,
    [tenantId, contactIds, segments.map((s) => s.id), ...params.values],
  );
  return counts;
}
