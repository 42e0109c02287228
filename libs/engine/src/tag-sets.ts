import { applyComputedTags } from './computed-tags';
import type { Queryable } from './queryable';
import { evaluateMembershipsSet } from './segment-membership';
import { refreshTagNums } from './tag-nums';
import type { TagActor } from './tag-changes';

export interface TagSetResult {
  added: number;
  removed: number;
  /** contacts whose tags changed */
  changed: string[];
}

/**
 * Makes each contact's tags among `scope` exactly the `wanted` pairs, for many contacts with different tags at
 * once (a page of a sync from a system that is the source of those tags): set-based, with a tag event per real
 * change and the tag_nums copy and outbox announcement of `refreshTagNums`. Tags outside the scope are left
 * alone. Runs in the caller's transaction; the caller then runs `contactsChanged`-style evaluation for the
 * contacts it changed (see `contactsChangedSet`). Exclusive groups are not enforced here: the source decides.
 */
export async function replaceTagsWithin(
  m: Queryable, tenantId: string, contactIds: string[], wanted: { contactId: string; tagId: string }[], scope: string[], actor: TagActor, reason: string,
): Promise<TagSetResult> {
  if (!contactIds.length) return { added: 0, removed: 0, changed: [] };
  const [r] = await m.query(
    `WITH target AS (
       SELECT id FROM contacts WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE
     ), want AS (
       SELECT DISTINCT w.contact_id, w.tag_id FROM unnest($3::uuid[], $4::uuid[]) AS w(contact_id, tag_id)
         JOIN target t ON t.id = w.contact_id
        WHERE w.tag_id = ANY($5::uuid[])
     ), removed AS (
       DELETE FROM contact_tags ct USING target t
        WHERE ct.contact_id = t.id AND ct.tag_id = ANY($5::uuid[])
          AND NOT EXISTS (SELECT 1 FROM want w WHERE w.contact_id = ct.contact_id AND w.tag_id = ct.tag_id)
       RETURNING ct.contact_id, ct.tag_id
     ), added AS (
       INSERT INTO contact_tags (tenant_id, contact_id, tag_id, tag_num, weight)
       SELECT $1, w.contact_id, tg.id, tg.num, tg.weight FROM want w JOIN tags tg ON tg.id = w.tag_id AND tg.tenant_id = $1
       ON CONFLICT (contact_id, tag_id) DO NOTHING
       RETURNING contact_id, tag_id
     ), events AS (
       INSERT INTO tag_events (tenant_id, contact_id, tag_id, action, actor_type, actor_id, reason)
       SELECT $1, contact_id, tag_id, 'removed', $6, $7, $8 FROM removed
       UNION ALL
       SELECT $1, contact_id, tag_id, 'added', $6, $7, $8 FROM added
       RETURNING contact_id
     )
     SELECT (SELECT count(*) FROM added)::int AS added, (SELECT count(*) FROM removed)::int AS removed,
            (SELECT coalesce(array_agg(DISTINCT contact_id), '{}') FROM events) AS changed`,
    [tenantId, contactIds, wanted.map((w) => w.contactId), wanted.map((w) => w.tagId), scope, actor.type, actor.id, reason],
  );
  if (r.changed.length) await refreshTagNums(m, tenantId, r.changed);
  return r;
}

/** `contactsChanged` for many contacts in one statement per step: computed tags, then segment memberships. */
export async function contactsChangedSet(m: Queryable, tenantId: string, contactIds: string[], now = new Date()): Promise<void> {
  if (!contactIds.length) return;
  await applyComputedTags(m, tenantId, contactIds, now);
  await evaluateMembershipsSet(m, tenantId, contactIds, now);
}
