/**
 * Handover in SQL: a user's contacts, customer groups and open tasks move to other people with one
 * statement each, whatever their number. With several recipients (a team) each row goes to the member
 * picked by a hash of its key, so the spread is even and stable, and a contact's tasks (keyed by the
 * contact) go to the same person as the contact.
 */
import { readsOwner, type Rule } from '@sop/domain';
import { applyComputedTags, type ComputedCase } from './computed-tags';
import type { Queryable } from './queryable';
import type { Transactional } from './sop-dispatch';
import { coverLeave, type People } from './sop-people';
import { evaluateMembershipsSet } from './segment-membership';

/** Contacts per `contact.updated` event, as for segment events. */
const EVENT_CONTACTS = 5000;

export interface MoveContext {
  tenantId: string;
  fromUserId: string;
  /** the recipients, at least one; the order decides who gets which hash bucket */
  toUserIds: string[];
  handoverId: string;
  actorId: string | null;
}

/** Tasks whose due window overlaps [from, until): what a leave concerns. */
export interface Period {
  from: Date;
  until: Date;
}

/**
 * The recipient for a row: `toUserIds` is $3. hashtext is Postgres' stable 32-bit string hash; shifting it
 * to [0, 2^32) keeps the modulo non-negative.
 */
const recipient = (key: string) => `($3::uuid[])[1 + mod(hashtext(${key})::bigint + 2147483648, cardinality($3::uuid[]))::int]`;

/**
 * Moves the user's contacts, announces the owner change (`contact.updated`, at most 5,000 contacts per
 * event) and lets computed tags and segment memberships follow, all in the caller's transaction. The API's
 * handover moves the contacts with `reassignContacts` and lets them follow after its commit (`followOwners`).
 */
export async function moveContacts(m: Queryable, c: MoveContext): Promise<number> {
  const ids = await reassignContacts(m, c);
  await ownersChanged(m, c.tenantId, ids);
  return ids.length;
}

/**
 * After a handover committed with `segments_pending` (apps/api handovers): its moved contacts' computed tags
 * and owner-based segments follow (`ownersChanged`), and the flag is cleared, in one transaction. Takes the given
 * handover, or the oldest pending one created before `olderThan` (the worker's relay, for any left over); a
 * handover another transaction is evaluating is skipped, so each is evaluated once. The moved contacts are read
 * from the handover's own `contact.updated` events (written in its transaction, so with its `created_at`), and
 * locked FOR SHARE first: an owner change committing meanwhile waits for this evaluation, or is seen by it.
 * Returns the handover evaluated and its contacts, or null when there was none to do.
 */
export async function followOwners(
  db: Transactional, pick: { handoverId: string } | { olderThan: Date }, now = new Date(),
): Promise<{ handoverId: string; contacts: number } | null> {
  return db.transaction(async (m) => {
    const [h]: { id: string; tenant_id: string }[] = await m.query(
      `SELECT id, tenant_id FROM handovers
        WHERE segments_pending AND ($1::uuid IS NULL OR id = $1) AND ($2::timestamptz IS NULL OR created_at < $2)
        ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
      ['handoverId' in pick ? pick.handoverId : null, 'olderThan' in pick ? pick.olderThan : null]);
    if (!h) return null;
    const [{ ids }]: { ids: string[] }[] = await m.query(
      `WITH moved AS (
         SELECT DISTINCT c.id::uuid AS id FROM handovers h
           JOIN domain_events d ON d.tenant_id = h.tenant_id AND d.type = 'contact.updated' AND d.created_at = h.created_at
                                AND d.payload->>'handoverId' = h.id::text
          CROSS JOIN jsonb_array_elements_text(d.payload->'contactIds') AS c(id)
          WHERE h.tenant_id = $1 AND h.id = $2
       ), locked AS (
         SELECT k.id FROM contacts k JOIN moved USING (id) WHERE k.tenant_id = $1 ORDER BY k.id FOR SHARE OF k
       )
       SELECT coalesce(array_agg(id), '{}') AS ids FROM locked`,
      [h.tenant_id, h.id]);
    await ownersChanged(m, h.tenant_id, ids, now);
    await m.query(`UPDATE handovers SET segments_pending = false WHERE tenant_id = $1 AND id = $2`, [h.tenant_id, h.id]);
    return { handoverId: h.id, contacts: ids.length };
  });
}

/**
 * Before a handover's moves (in its transaction): locks the recipients' user rows FOR KEY SHARE, the lock a
 * foreign-key check takes, once instead of once per moved row, and, when all of them are there and the connection
 * may, turns the per-row foreign-key checks off for the moves (`session_replication_role = replica`, as the CSV
 * import's merge does: apps/api imports.repository.ts `holdChunkReferences`). The moves then refer only to rows
 * held until the commit: the recipients (`contacts.owner_id`, `customer_groups.owner_id`, `tasks.executor_id`,
 * locked here, in the tenant) and the tasks their own UPDATE has just written (`task_events.task_id`); those checks
 * could only confirm them. They were 300,000 checks in a 100,000-contact handover, about 1 to 1.5 CPU seconds.
 * The triggers the moves need fire in that role too: the rollups and their lock are ENABLE ALWAYS (migration
 * RollupLockOncePerTransaction1765790000000), as is the outbox's exit-check trigger. Returns whether the checks are
 * off; `rowChecksBack` turns them on again after the moves. Otherwise (a recipient gone meanwhile, or a role that may
 * not set it) the checks run row by row as usual, and a missing recipient fails the move as before.
 */
export async function holdRecipients(m: Queryable, c: Pick<MoveContext, 'tenantId' | 'toUserIds'>): Promise<boolean> {
  const [{ held, may }]: { held: boolean; may: boolean }[] = await m.query(
    `WITH held AS (SELECT id FROM users WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR KEY SHARE)
     SELECT (SELECT count(*) FROM held) = cardinality($2::uuid[]) AS held, has_parameter_privilege('session_replication_role', 'SET') AS may`,
    [c.tenantId, [...new Set(c.toUserIds)]]);
  if (!held || !may) return false;
  await m.query(`SET LOCAL session_replication_role = replica`);
  return true;
}

/** The per-row foreign-key checks on again for the rest of the transaction, after `holdRecipients` turned them off. */
export async function rowChecksBack(m: Queryable): Promise<void> {
  await m.query(`SET LOCAL session_replication_role = origin`);
}

/** The owner update and its outbox events, in one statement; returns the moved contacts' ids. */
export async function reassignContacts(m: Queryable, c: MoveContext): Promise<string[]> {
  const [{ ids }]: { ids: string[] }[] = await m.query(
    `WITH moved AS (
       UPDATE contacts c SET owner_id = ${recipient('c.id::text')}, updated_at = now()
        WHERE c.tenant_id = $1 AND c.owner_id = $2
       RETURNING c.id
     ), events AS (
       INSERT INTO domain_events (tenant_id, type, payload)
       SELECT $1, 'contact.updated', jsonb_build_object('contactIds', jsonb_agg(id), 'fields', jsonb_build_array('ownerId'), 'handoverId', $4::uuid)
         FROM (SELECT id, (row_number() OVER () - 1) / ${EVENT_CONTACTS} AS part FROM moved) x GROUP BY part
     )
     SELECT coalesce(array_agg(id), '{}') AS ids FROM moved`,
    [c.tenantId, c.fromUserId, c.toUserIds, c.handoverId],
  );
  return ids;
}

/**
 * What follows an owner change, set-based: only rules that read the owner can change their answer, so the
 * computed-tag rules and segments that do are evaluated for these contacts (not all of the tenant's, which
 * costs 100,000 contacts seconds per segment); contacts whose computed tags changed are then evaluated
 * against every segment, as any tag change is.
 */
export async function ownersChanged(m: Queryable, tenantId: string, contactIds: string[], now = new Date()): Promise<void> {
  if (!contactIds.length) return;
  const [{ segments, rules }]: { segments: { id: string; rule: Rule }[]; rules: { id: string; cases: ComputedCase[] }[] }[] = await m.query(
    `SELECT coalesce((SELECT json_agg(json_build_object('id', id, 'rule', rule)) FROM segments WHERE tenant_id = $1), '[]') AS segments,
            coalesce((SELECT json_agg(json_build_object('id', id, 'cases', cases)) FROM computed_tag_rules WHERE tenant_id = $1), '[]') AS rules`,
    [tenantId]);
  const retagged = new Set<string>();
  for (const rule of rules.filter((r) => r.cases.some((x) => readsOwner(x.when)))) {
    for (const id of await applyComputedTags(m, tenantId, contactIds, now, rule.id)) retagged.add(id);
  }
  const ownerSegments = segments.filter((s) => readsOwner(s.rule)).map((s) => s.id);
  if (ownerSegments.length) await evaluateMembershipsSet(m, tenantId, contactIds, now, ownerSegments);
  if (retagged.size) await evaluateMembershipsSet(m, tenantId, [...retagged], now);
}

export async function moveGroups(m: Queryable, c: MoveContext): Promise<number> {
  const [, n] = await m.query(
    `UPDATE customer_groups g SET owner_id = ${recipient('g.id::text')}, updated_at = now() WHERE g.tenant_id = $1 AND g.owner_id = $2`,
    [c.tenantId, c.fromUserId, c.toUserIds]);
  return n;
}

/** Pending tasks (all, or those due during `period`) go to the recipients, each with a 'reassigned' history row. */
export async function moveTasks(m: Queryable, c: MoveContext, period?: Period): Promise<number> {
  const [{ n }] = await m.query(
    `WITH moved AS (
       UPDATE tasks t SET executor_id = ${recipient('coalesce(t.contact_id, t.group_id)::text')}
        WHERE t.tenant_id = $1 AND t.executor_id = $2 AND t.status = 'pending'
          AND ($6::timestamptz IS NULL OR (t.due_at < $6 AND t.due_until > $5))
       RETURNING t.id, t.executor_id
     ), history AS (
       INSERT INTO task_events (tenant_id, task_id, action, actor_id, detail)
       SELECT $1, id, 'reassigned', $7::uuid, jsonb_build_object('from', $2::uuid, 'to', executor_id, 'handoverId', $4::uuid) FROM moved
     )
     SELECT count(*)::int AS n FROM moved`,
    [c.tenantId, c.fromUserId, c.toUserIds, c.handoverId, period?.from ?? null, period?.until ?? null, c.actorId]);
  return n;
}

/**
 * A reassigning leave's pending tasks due during it go where `coverLeave` sends them: the rule engine pages
 * apply to tasks they create later, so one contact's tasks land with one substitute, before and after.
 * `people` must already hold the leave.
 */
export async function coverTasksOnLeave(m: Queryable, c: Omit<MoveContext, 'toUserIds'>, period: Period, people: People): Promise<number> {
  const due: { id: string; key: string | null; due_at: Date }[] = await m.query(
    `SELECT id::text, coalesce(contact_id, group_id)::text AS key, due_at FROM tasks
      WHERE tenant_id = $1 AND executor_id = $2 AND status = 'pending' AND due_at < $4 AND due_until > $3
      FOR UPDATE`,
    [c.tenantId, c.fromUserId, period.from, period.until]);
  const moves = due.flatMap((t) => {
    // a window open when the leave starts counts from the start
    const cover = coverLeave(c.fromUserId, t.due_at < period.from ? period.from : t.due_at, t.key ?? t.id, people);
    return 'executorId' in cover ? [{ id: t.id, to: cover.executorId }] : [];
  });
  if (!moves.length) return 0;
  const [{ n }] = await m.query(
    `WITH moved AS (
       UPDATE tasks t SET executor_id = x.executor_id FROM unnest($3::bigint[], $4::uuid[]) AS x(task_id, executor_id)
        WHERE t.id = x.task_id AND t.tenant_id = $1
       RETURNING t.id, t.executor_id
     ), history AS (
       INSERT INTO task_events (tenant_id, task_id, action, actor_id, detail)
       SELECT $1, id, 'reassigned', $6::uuid, jsonb_build_object('from', $2::uuid, 'to', executor_id, 'handoverId', $5::uuid) FROM moved
     )
     SELECT count(*)::int AS n FROM moved`,
    [c.tenantId, c.fromUserId, moves.map((x) => x.id), moves.map((x) => x.to), c.handoverId, c.actorId]);
  return n;
}

/**
 * Pending tasks due during the period wait for the return: due at `period.until`, their window as long as
 * before, each with a 'deferred' history row saying from when to when.
 */
export async function deferTasks(m: Queryable, c: Omit<MoveContext, 'toUserIds'>, period: Period): Promise<number> {
  const [{ n }] = await m.query(
    `WITH due AS (
       SELECT id, due_at FROM tasks
        WHERE tenant_id = $1 AND executor_id = $2 AND status = 'pending' AND due_at < $4 AND due_until > $3
        FOR UPDATE
     ), deferred AS (
       UPDATE tasks t SET due_at = $4, due_until = $4::timestamptz + (t.due_until - t.due_at)
         FROM due WHERE t.id = due.id
       RETURNING t.id, due.due_at AS was, t.due_at AS now_due
     ), history AS (
       INSERT INTO task_events (tenant_id, task_id, action, actor_id, detail)
       SELECT $1, id, 'deferred', $6::uuid, jsonb_build_object('from', was, 'to', now_due, 'handoverId', $5::uuid) FROM deferred
     )
     SELECT count(*)::int AS n FROM deferred`,
    [c.tenantId, c.fromUserId, period.from, period.until, c.handoverId, c.actorId]);
  return n;
}
