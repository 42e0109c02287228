/**
 * Applies and removes tags on many contacts with set-based SQL, respecting exclusive groups, and
 * records a tag event for every real change plus one outbox event for the changed contacts; the
 * contacts' computed tags and segment memberships follow in the same transaction. Repeating a change
 * changes nothing and records nothing. Used by the API (people, API keys, imports, source codes) and by
 * the SOP engine (on-finish actions).
 */
import { AppError, type ErrorDetail } from '@sop/domain';
import { contactsChanged } from './contacts-changed';
import type { Queryable } from './queryable';
import { refreshTagNums } from './tag-nums';

export interface TagActor {
  type: 'user' | 'api_key' | 'system' | 'rule' | 'import' | 'source_code' | 'response' | 'sop';
  id: string | null;
}

export interface TagChange {
  add?: string[];
  remove?: string[];
  weight?: number;
  reason?: string;
}

interface TagRow {
  id: string;
  num: number;
  group_id: string;
  group_name: string;
  exclusive: boolean;
}

export interface TagChangeResult {
  contacts: number;
  added: number;
  removed: number;
}

/** Runs in the caller's transaction. */
export async function changeTags(m: Queryable, tenantId: string, contactIds: string[], change: TagChange, actor: TagActor): Promise<TagChangeResult> {
  const add = [...new Set(change.add ?? [])];
  const remove = [...new Set(change.remove ?? [])];
  const tags = await loadTags(tenantId, add, remove, m);
  const exclusiveGroups = exclusiveGroupsOf(add, tags);
  return apply(m, tenantId, contactIds, { add, remove, exclusiveGroups }, change, actor);
}

async function apply(
  m: Queryable,
  tenantId: string,
  contactIds: string[],
  { add, remove, exclusiveGroups }: { add: string[]; remove: string[]; exclusiveGroups: string[] },
  change: TagChange,
  actor: TagActor,
): Promise<TagChangeResult> {
  // Removed: the asked-for tags, plus the other tags of each exclusive group a new tag belongs to.
  const [counts] = await m.query(
    `WITH target AS (
       SELECT id FROM contacts WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE
     ), removed AS (
       DELETE FROM contact_tags ct USING target t
        WHERE ct.contact_id = t.id
          AND (ct.tag_id = ANY($3::uuid[])
               OR (ct.tag_id <> ALL($4::uuid[])
                   AND ct.tag_id IN (SELECT x.id FROM tags x WHERE x.tenant_id = $1 AND x.group_id = ANY($9::uuid[]))))
       RETURNING ct.contact_id, ct.tag_id
     ), added AS (
       INSERT INTO contact_tags (tenant_id, contact_id, tag_id, tag_num, weight)
       SELECT $1, t.id, tg.id, tg.num, COALESCE($5::numeric, tg.weight)
         FROM target t CROSS JOIN tags tg
        WHERE tg.tenant_id = $1 AND tg.id = ANY($4::uuid[])
       ON CONFLICT (contact_id, tag_id) DO NOTHING
       RETURNING contact_id, tag_id
     ), events AS (
       INSERT INTO tag_events (tenant_id, contact_id, tag_id, action, actor_type, actor_id, reason)
       SELECT $1, contact_id, tag_id, 'removed', $6, $7, $8 FROM removed
       UNION ALL
       SELECT $1, contact_id, tag_id, 'added', $6, $7, $8 FROM added
       RETURNING contact_id
     )
     SELECT (SELECT count(*) FROM target)::int AS contacts,
            (SELECT count(*) FROM added)::int AS added,
            (SELECT count(*) FROM removed)::int AS removed,
            (SELECT coalesce(array_agg(DISTINCT contact_id), '{}') FROM events) AS changed`,
    [tenantId, contactIds, remove, add, change.weight ?? null, actor.type, actor.id, change.reason ?? null, exclusiveGroups],
  );
  if (counts.changed.length) {
    await refreshTagNums(m, tenantId, counts.changed);
    await contactsChanged(m, tenantId, counts.changed);
  }
  return { contacts: counts.contacts, added: counts.added, removed: counts.removed };
}

async function loadTags(tenantId: string, add: string[], remove: string[], m: Queryable): Promise<Map<string, TagRow>> {
  const rows: TagRow[] = await m.query(
    `SELECT t.id, t.num, t.group_id, g.name AS group_name, g.exclusive
       FROM tags t JOIN tag_groups g ON g.id = t.group_id
      WHERE t.tenant_id = $1 AND t.id = ANY($2::uuid[])`,
    [tenantId, [...add, ...remove]],
  );
  const tags = new Map(rows.map((r) => [r.id, r]));
  const details: ErrorDetail[] = [
    ...add.map((id, i) => ({ id, path: `add[${i}]` })),
    ...remove.map((id, i) => ({ id, path: `remove[${i}]` })),
  ]
    .filter(({ id }) => !tags.has(id))
    .map(({ path }) => ({ path, problem: 'no such tag' }));
  add.forEach((id, i) => {
    if (remove.includes(id)) details.push({ path: `add[${i}]`, problem: 'is also in remove' });
  });
  if (details.length) throw new AppError('TAG_CHANGE_INVALID', 422, 'Some tags cannot be changed as asked.', details);
  return tags;
}

/** The exclusive groups that `add` puts a tag in; two tags of one exclusive group is an error. */
function exclusiveGroupsOf(add: string[], tags: Map<string, TagRow>): string[] {
  const groups = new Set<string>();
  const details: ErrorDetail[] = [];
  add.forEach((id, i) => {
    const tag = tags.get(id)!;
    if (!tag.exclusive) return;
    if (groups.has(tag.group_id)) details.push({ path: `add[${i}]`, problem: `a second tag of the exclusive group "${tag.group_name}"` });
    groups.add(tag.group_id);
  });
  if (details.length) throw new AppError('TAG_CHANGE_INVALID', 422, 'Some tags cannot be changed as asked.', details);
  return [...groups];
}
