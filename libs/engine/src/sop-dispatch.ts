/**
 * The journey engine in SQL: enroll segment entrants in bulk, close enrollments whose exit
 * conditions hold, and turn due enrollments into tasks a page at a time. Every write is keyed
 * (enrollments by SOP, contact and segment entry; tasks by enrollment and step), so a retried
 * activity changes nothing twice. The dispatcher workflow only decides when to call these.
 */
import {
  BusinessCalendar, type CalendarOverride, compileTaskTemplate, type DayPolicy, type DueWindow, journeyDueWindow, type SopDefinition, type SopStep,
  type TaskContent, type TemplateScope,
} from '@sop/domain';
import { DateTime } from 'luxon';
import type { Queryable } from './queryable';
import { PageLimits } from './sop-limits';
import {
  CONTACT_SCOPE_COLUMNS, contactScope, type ContactScopeRow, coverLeave, loadPeople, type People, pickVariant, resolveExecutor, roundRobinPool,
} from './sop-people';
import { hasExitConditions } from './exit-conditions';
import { notifyHeldByVersion } from './held-tasks';
import { changeTags } from './tag-changes';

export interface Transactional extends Queryable {
  transaction<T>(run: (m: Queryable) => Promise<T>): Promise<T>;
}

/**
 * Entries this recent are looked at again in case a slower transaction committed them late: the outbox events of a
 * journey that starts on an event, and a segment's memberships on a SOP's first pass without a kept snapshot (after
 * the deploy that added them; every later pass finds late commits by transaction id, see enrollSql).
 */
const LATE_COMMIT_WINDOW = '5 minutes';

interface ActiveSop {
  id: string;
  tenantId: string;
  name: string;
  status: string;
  versionId: string;
  definition: SopDefinition;
}

async function activeSop(db: Queryable, sopId: string, lock = ''): Promise<ActiveSop | null> {
  // The lock is taken first, alone: it waits for a transaction that holds the row (an activation in flight, which
  // publishes the version and starts this workflow before it commits). Locked and read in one statement, the row
  // would be re-read after that commit but joined to versions from the statement's older snapshot, which lack the
  // new one: the SOP looked missing (seen with two workers: a broadcast ended at once with no task).
  if (lock) await db.query(`SELECT 1 FROM sops s WHERE s.id = $1 ${lock}`, [sopId]);
  const [row] = await db.query(
    `SELECT s.id, s.tenant_id, s.name, s.status, v.id AS version_id, v.definition
       FROM sops s JOIN sop_versions v ON v.sop_id = s.id AND v.version = s.current_version
      WHERE s.id = $1`,
    [sopId],
  );
  if (!row || row.status !== 'active') return null;
  return { id: row.id, tenantId: row.tenant_id, name: row.name, status: row.status, versionId: row.version_id, definition: row.definition };
}

export async function loadCalendar(db: Queryable, tenantId: string): Promise<BusinessCalendar> {
  const rows: CalendarOverride[] = await db.query(
    `SELECT to_char(date, 'YYYY-MM-DD') AS date, working, name FROM calendar_overrides WHERE tenant_id = $1`, [tenantId]);
  return new BusinessCalendar(rows);
}

/**
 * The segment's open memberships past the cursor, on the id index alone (its predicate: see enrollSql): a range
 * both of whose ends are row comparisons on `(segment_id, id)`. With `segment_id = $s` beside one comparison, Postgres
 * 17 started the scan at the segment's first entry and read the whole segment to find none past the cursor (495
 * index pages a pass at 100,000 members, the steady pass's cost growing with its segment); bounded at both ends it
 * starts at the cursor (3 pages).
 */
const pastCursor = (segment: string, cursor: string) =>
  `(segment_id, id) > (${segment}, ${cursor}::bigint) AND (segment_id, id) <= (${segment}, ${LAST_ID}) AND (exited_at IS NULL) IS TRUE`;
const LAST_ID = "'9223372036854775807'::bigint";

/**
 * enrollSql's arms at or below the cursor: what the last snapshot did not see (writer ids from its xmax on, and those
 * running then), or the window. Open memberships tested as `(exited_at IS NULL) IS NOT FALSE`, which implies no
 * index's predicate, so `segment_memberships_written_idx` is the one index that can serve the snapshot's arms.
 */
const lateArms = (lateBy: 'snapshot' | 'window') => (lateBy === 'snapshot'
  ? ['written_xid >= $7::xid8 AND written_xid IS NOT NULL', 'written_xid = ANY($8::xid8[]) AND written_xid IS NOT NULL']
    .map((late) => `${late} AND (exited_at IS NULL) IS NOT FALSE`)
  : ['entered_at > $7::timestamptz AND exited_at IS NULL'] // once per SOP: the segment read on its open-membership key
).map((late) => `SELECT tenant_id, contact_id, id FROM segment_memberships
   WHERE segment_id = $3 AND ${late} AND (id <= $6) IS TRUE AND $6::bigint > 0`);

/**
 * $1 SOP, $2 version, $3 segment, $4 now, $5 tenant, $6 the SOP's enrollment cursor (the highest membership id
 * already looked at); with `lateBy: 'snapshot'`, $7 and $8 what the SOP's last enrollment statement's snapshot did
 * not see (transaction ids from its xmax on, and the ids running then), else $7 the start of the late-commit window
 * (never before `enroll_from`). The cursor and the snapshot come in as values, read by `enrollEntrants` under the
 * SOP's row lock: the planner then sees constants. Read inside the statement (a subquery on `sops`), they were known
 * only while executing, and every pass scanned the whole segment: 1,992 ms against 37 ms at 10,000,000 contacts
 * (docs/measurements.md, "Ten times the data"). The candidates are two
 * arms that do not overlap, each with the segment in its condition: the memberships past the cursor and, at or below
 * it, those that committed late (under a lower id, after a pass had moved the cursor past it). With the cursor at 0
 * (existing members enroll) the second arm is left out at planning, so a first enrollment reads the segment once.
 * With `reentry: never` a contact ever enrolled is left out by an anti-join. The candidates are sorted by contact,
 * which feeds the unique index in key order.
 *
 * Late commits are found by transaction id: a membership the last statement's snapshot did not see, because its
 * writer (`written_xid`) was running then or began later (`segment_memberships_written_idx`: a range from the
 * snapshot's xmax, and a probe per running id; not a range from its xmin, which one long transaction anywhere holds
 * back past every membership since). Every membership that snapshot saw at or below the new cursor was a candidate
 * of that statement or of an earlier one (by induction over the passes, which the SOP's row lock serializes: past the
 * cursor it read, the first arm; below, it was unseen by the snapshot before and in the second arm, or seen and
 * earlier's). So the arm holds only what committed since, whatever the time. It was the memberships entered in the
 * last five minutes: in the five minutes after a segment was saved, every pass re-read and re-probed each new member
 * (100,000 probes a pass), and with statistics from before those enrollments the pass ran past the activity's timeout.
 * That window is left only for a SOP's first pass after the deploy that added the snapshot (memberships written before
 * it have no writer id): it reads the segment once. An activation that enrolls only new members keeps the snapshot its
 * cursor was read in (`startEnrollment`).
 *
 * The id bounds are written so that only the segment's id index (`segment_memberships_segment_idx`, segment and
 * id) can serve them, whatever the statistics say: its predicate is `(exited_at IS NULL) IS TRUE`, which only these
 * statements state and which implies no other index's (with statistics that did not know a fresh segment, every
 * index led by the segment looked as good, and the open-membership key served the bounded look and read all 20,000
 * of its entries), the range past the cursor is bounded by row comparisons on `(segment_id, id)` (`pastCursor`), and
 * the plain id comparisons are `IS TRUE` tests, which no index serves but which the planner estimates as the
 * comparisons themselves. Written plainly, the primary key could take the id range: with statistics that took this
 * segment for most of the table (a test database; a large tenant beside small ones), a pass read every other
 * segment's memberships past the cursor to find none of this one's (10,001 rows for 5,000 written by another tenant,
 * in sop-enroll-plan). The late arms have an index of their own (`lateArms`).
 *
 * The new cursor is this segment's highest open membership past the cursor (none: it stays), an aggregate over the
 * same forward range: `max(id + 0)`, so that the planner does not turn it into a backward walk, which in Postgres 17
 * does not stop at the row comparison's lower end and read the whole segment each pass (a bulk pass reads the range
 * twice instead). As `max(id)` over a plain id range, the primary key walked back from the table's end, past every
 * other segment's newer rows. Memberships are never reopened (re-entry writes a new row), so a closed one past it
 * has nothing to enroll. The statement returns its snapshot, which the caller keeps with the cursor in the same
 * transaction.
 */
export const enrollSql = (reentry: boolean, lateBy: 'snapshot' | 'window') => `WITH candidates AS MATERIALIZED (
   SELECT m.tenant_id, m.contact_id, m.id
     FROM (SELECT tenant_id, contact_id, id FROM segment_memberships
            WHERE ${pastCursor('$3', '$6')} AND (id > $6) IS TRUE
           UNION ALL
           ${lateArms(lateBy).join(' UNION ALL ')}) m
    WHERE m.tenant_id = $5
      ${reentry ? '' : 'AND NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.sop_id = $1 AND e.contact_id = m.contact_id)'}
    ORDER BY m.contact_id
 ), entrants AS (
   INSERT INTO enrollments (tenant_id, sop_id, sop_version_id, contact_id, entry_no, next_due_at, entered_at)
   SELECT tenant_id, $1, $2, contact_id, id, $4, $4 FROM candidates
   ON CONFLICT DO NOTHING
   RETURNING 1
 )
 SELECT (SELECT max(id + 0) FROM segment_memberships WHERE ${pastCursor('$3', '$6')}) AS max,
        (SELECT count(*)::int FROM entrants) AS n,
        pg_current_snapshot()::text AS snapshot`;

/**
 * From this many memberships past the cursor on, a pass is a bulk enrollment (a journey activated on a large
 * segment, a segment just saved or filled by an import), and its anti-join is kept off nested loops.
 */
export const BULK_ENROLLMENT = 1000;

/**
 * What `enrollSql` needs besides the SOP and the segment, read under the SOP's row lock (taken by the caller) in
 * the caller's transaction: a concurrent pass of the same SOP waits for the lock, then reads the cursor the first
 * one committed. `bulk`: at least BULK_ENROLLMENT open memberships lie past the cursor (a bounded look along the
 * segment's id index, at most that many entries).
 */
export async function enrollmentBounds(m: Queryable, sopId: string, segmentId: string, now: Date) {
  const [sop] = await m.query(
    `SELECT tenant_id, enroll_cursor, pg_snapshot_xmax(enroll_snapshot)::text AS xmax,
            ARRAY(SELECT pg_snapshot_xip(enroll_snapshot)::text) AS xip, greatest($2::timestamptz - $3::interval, enroll_from) AS since
       FROM sops WHERE id = $1`,
    [sopId, now, LATE_COMMIT_WINDOW]);
  // In the segment's id index order, which no other index gives (the segment bounded, not equal: see enrollSql). As
  // `segment_id = $1 ... ORDER BY id`, the primary key gave the order too, and with statistics that took this
  // segment for most of the table it was walked from the cursor on, past every other segment's newer memberships.
  const [{ n }] = await m.query(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM segment_memberships
      WHERE ${pastCursor('$1', '$2')} ORDER BY segment_id, id LIMIT $3) x`,
    [segmentId, sop.enroll_cursor, BULK_ENROLLMENT]);
  return {
    tenantId: sop.tenant_id as string, cursor: sop.enroll_cursor as string, bulk: n >= BULK_ENROLLMENT,
    /** what the last enrollment statement's snapshot did not see: ids from its xmax on, and those running then */
    unseen: sop.xmax ? { xmax: sop.xmax as string, running: sop.xip as string[] } : null,
    since: sop.since as Date,
  };
}

/** The enrollment statement `enrollEntrants` runs (the bench explains it too), and the planner settings it runs with. */
export function enrollmentStatement(
  e: { sopId: string; versionId: string; segmentId: string; now: Date; reentry: boolean },
  bounds: Awaited<ReturnType<typeof enrollmentBounds>>,
) {
  // A bulk enrollment keeps its anti-join off nested loops, whatever the statistics say. Memberships just written
  // (a segment saved, an import) are unknown to them until autovacuum analyzes the table, which at 1,000,000 rows
  // waits for 100,000 changes: the planner took a fresh segment of 100,000 for one row and joined each candidate
  // to a scan of this SOP's enrollments, rows this statement was inserting included, so the enrollment turned
  // quadratic (7 minutes at 1,000,000 contacts, docs/measurements.md). A hash or merge anti-join reads the SOP's
  // enrollments once, as they were before the statement, whatever the estimate. Not an ANALYZE instead: the
  // memberships come from several writers (saving a segment, re-evaluating changed contacts, imports, the silence
  // sweep), an ANALYZE of 10,000,000 rows takes seconds, and the SOP's own enrollments may be as unknown to the
  // statistics as the memberships. Small passes are held to index probes (PROBES_ONLY, as the exit pass): a nested
  // loop probing the SOP's enrollments by contact is what their few candidates want. Left to the planner, statistics
  // that took this segment for most of the table chose a hash anti-join that read all of the SOP's 20,000
  // enrollments for 3 new members (sop-enroll-plan). The late commits are probed alike.
  const { unseen } = bounds;
  return {
    sql: enrollSql(e.reentry, unseen ? 'snapshot' : 'window'),
    params: [
      e.sopId, e.versionId, e.segmentId, e.now, bounds.tenantId, bounds.cursor,
      ...(unseen ? [unseen.xmax, unseen.running] : [bounds.since]),
    ],
    settingsOff: bounds.bulk ? ['enable_nestloop'] : PROBES_ONLY,
  };
}

/**
 * A journey that starts on an event: the contacts named by that type of outbox event since the last
 * look (and the late-commit window before it, never before activation), who are in the audience
 * segment, each entering once per event (entry number = event id). $6 is the event type.
 */
export const enrollOnEventSql = (reentry: boolean) => `WITH sop AS (
   SELECT id, tenant_id, greatest(coalesce(events_seen_at, enroll_from) - $5::interval, enroll_from) AS since FROM sops WHERE id = $1
 ), candidates AS MATERIALIZED (
   SELECT DISTINCT ON (x.contact_id) sop.tenant_id, x.contact_id::uuid AS contact_id, d.id AS entry_no
     FROM sop JOIN domain_events d ON d.tenant_id = sop.tenant_id AND d.type = $6 AND d.created_at > sop.since
    CROSS JOIN LATERAL jsonb_array_elements_text(
      CASE WHEN d.payload ? 'contactIds' THEN d.payload->'contactIds' ELSE jsonb_build_array(d.payload->'contactId') END) AS x(contact_id)
    WHERE EXISTS (SELECT 1 FROM segment_memberships m WHERE m.segment_id = $3 AND m.contact_id = x.contact_id::uuid AND m.exited_at IS NULL)
      ${reentry ? '' : 'AND NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.sop_id = $1 AND e.contact_id = x.contact_id::uuid)'}
    ORDER BY x.contact_id, d.id
 ), entrants AS (
   INSERT INTO enrollments (tenant_id, sop_id, sop_version_id, contact_id, entry_no, next_due_at, entered_at)
   SELECT tenant_id, $1, $2, contact_id, entry_no, $4, $4 FROM candidates
   ON CONFLICT DO NOTHING
   RETURNING 1
 ), seen AS (
   UPDATE sops SET events_seen_at = $4 WHERE id = $1 RETURNING 1
 )
 SELECT (SELECT count(*)::int FROM entrants) AS n, (SELECT count(*) FROM seen) AS _`;

/**
 * Enrolls the journey's segment entrants not yet enrolled: one INSERT ... SELECT. A contact enters
 * once per segment entry; with `reentry: never`, only if it was never enrolled in this SOP.
 */
export async function enrollEntrants(db: Transactional, sopId: string, now = new Date()): Promise<number> {
  return db.transaction(async (m) => {
    // NO KEY UPDATE: it serializes the SOP's passes and waits for an activation in flight as FOR UPDATE did, but
    // not for the writers whose exit checks' foreign key holds FOR KEY SHARE on the row (a stream of responses).
    const sop = await activeSop(m, sopId, 'FOR NO KEY UPDATE OF s');
    if (!sop || sop.definition.kind !== 'journey' || !('segmentId' in sop.definition.audience)) return 0;
    const reentry = sop.definition.entry.reentry === 'afterExit';
    if (sop.definition.entry.event) {
      const [row] = await m.query(enrollOnEventSql(reentry),
        [sopId, sop.versionId, sop.definition.audience.segmentId, now, LATE_COMMIT_WINDOW, sop.definition.entry.event]);
      return row.n;
    }
    const segmentId = sop.definition.audience.segmentId;
    const bounds = await enrollmentBounds(m, sopId, segmentId, now);
    const { sql, params, settingsOff } = enrollmentStatement({ sopId, versionId: sop.versionId, segmentId, now, reentry }, bounds);
    await m.query(`SELECT set_config(name, 'off', true) FROM pg_settings WHERE name = ANY($1)`, [settingsOff]);
    const rows: { max: string | null; n: number; snapshot: string }[] = await m.query(sql, params);
    await m.query(`SELECT set_config(name, reset_val, true) FROM pg_settings WHERE name = ANY($1)`, [settingsOff]); // as TO DEFAULT
    await m.query(`UPDATE sops SET enroll_cursor = greatest(enroll_cursor, coalesce($2::bigint, 0)), enroll_snapshot = $3 WHERE id = $1`,
      [sopId, rows[0].max, rows[0].snapshot]);
    return rows[0].n;
  });
}

/**
 * Closes the active enrollments whose exit conditions hold (replied or bought since entering, left the
 * segment, the tag added or removed since entering) and cancels their pending tasks, with the reason. Only the
 * enrollments that may have changed are looked at: those of contacts with a queued exit check (queued by the outbox
 * trigger in the writer's transaction, see the `sop_exit_checks` migration) and the recent enrollments of contacts
 * that changed while they were being written (the change saw no enrollment to queue a check for). One
 * statement deletes the checks it sees and evaluates them in the same snapshot, so a check committed while it runs
 * stays for the next pass; then one statement per reason closes the exits.
 *
 * The late-commit re-check is bounded by transaction ids, not by time (the `exit_recheck_*` migrations). A change
 * misses an enrollment when its outbox trigger runs before the enrollment commits. If the enrollment's snapshot did
 * not see the change either, the change's transaction id is at least that snapshot's xmin. If it did, the contact
 * entered with the change made; its time can still be after `entered_at` only when it began after the dispatcher
 * took its `now`, which is after the previous pass, so its id is past that pass's snapshot and past the bounds (a
 * hand-over's `now` is the finishing SOP's and can be minutes old: `handOver` queues a check for each contact it
 * enrolls).
 * The pass re-checks the enrollments written since `exit_recheck_from` (by `entered_xid`) whose contacts have an
 * exit-relevant outbox event written since `exit_recheck_changes_from` (by `written_xid`). It starts from those
 * events, so a bulk enrollment costs it nothing until its contacts change (it re-checked every enrollment written
 * since the bound: 284 s after 10,000,000 entrants).
 * - `exit_recheck_from` moves: the pass keeps one earlier pass's snapshot (`exit_recheck_next` = its xmin) and that
 *   pass's own transaction id (`exit_recheck_after`), assigned after the snapshot was taken. Not the snapshot's
 *   xmax: Postgres sets it from the last transaction that ended, so a transaction that has its id but whose id is
 *   above every ended one is neither below it nor in the snapshot's running list (a change begun after an
 *   enrollment took its id, and still open). Once a pass's own snapshot has an xmin past that id, every transaction
 *   that had an id when the kept snapshot was taken has ended, so every change that could have missed an
 *   enrollment below the kept xmin (it had its id before that enrollment committed) has committed, and this pass
 *   saw it; after it the bound moves up to the kept xmin.
 * - `exit_recheck_changes_from` is the value `exit_recheck_from` had before its last move (at first, the xmin when
 *   the SOP was created, a snapshot every enrollment's follows). A snapshot is kept only by a pass whose xmin is past
 *   the id of the pass that kept the snapshot before it, whose xmin became the previous bound. So an enrollment at or
 *   past the current bound has an id past that earlier pass's id: it was assigned after that earlier snapshot was
 *   taken. Every enrollment writer has its id before the statement that enrolls (it locks a SOP's row first: its
 *   own, or for a hand-over or a reopening the page's SOP), so that statement's snapshot is later too, and its xmin is at least
 *   the previous bound (a transaction running then was running at the earlier snapshot or began after it). A change
 *   it missed was running then or began later: its id is at least the previous bound. A cap that takes a finished
 *   journey's last task reopens its enrollment (`writeBumps`) as a new entry would: a new `entered_xid` and a check.
 * - Two passes of one SOP can overlap (an activity attempt that timed out is still running): the bounds move by
 *   compare-and-set on the kept snapshot, so a pass that finds another's snapshot kept since it read them moves
 *   nothing, and the chain of kept snapshots above holds.
 *
 * Its plans must not depend on statistics: the rows it reads were mostly written minutes ago (a journey just
 * activated, its enrollments, memberships, tasks and checks), or the statistics were taken while the tables held
 * something else (another tenant's journey, nothing at all). So nothing is left for the planner to choose between a
 * probe and a scan (tests: `sop-exits-plan`, with the statistics in four states):
 * - the candidates come from the changed contacts, each a lateral probe (`OFFSET 0`: never flattened into a join the
 *   planner could turn around) of that contact's own active enrollments (`enrollments_contact_idx`); the SOP and the
 *   segment are compared as text, so no index led by them can be taken instead (a SOP the statistics do not know
 *   looks like a row or two in each, and a tie read the whole journey per probe);
 *   the recent changes come from `domain_events_exit_changes_idx`, each changed contact's enrollments probed alike;
 * - each condition is evaluated once per candidate (a materialized CTE; inlined, the CASE ran in the UPDATE's filter,
 *   SET and RETURNING);
 * - the closing statements take the ids as an array, per reason: the enrollments by primary key, their tasks by
 *   `tasks_journey_step_key`; no join to turn around, and the status tests are written so that no partial index on
 *   the status applies (a partial index whose predicate a query implies may be read whole; with statistics that
 *   thought active enrollments rare, such a read once per exiting enrollment read 4.5 M rows in a full test run);
 * - sequential scans, hash and merge joins are off for the pass's own statements (`SET LOCAL`), so what is left is
 *   index probes, whatever the estimates. The rollup trigger on the cancelled tasks keeps hash and merge joins (they
 *   are reset before the closing statements): its joins read the statement's transition tables.
 *
 * Tag exits are transitions, read from the append-only `tag_events`: `tagAdded` holds when the tag was added
 * after the contact entered (a tag it had at entry does not count; removed and added again does), even if it
 * was removed again since; `tagRemoved` holds when the tag was removed after entry, which needs the contact to
 * have had it at some point after entering (had it at entry, or added it since); never having had it is not a
 * removal.
 */
export async function applyExits(db: Transactional, sopId: string): Promise<number> {
  return (await exitPass(db, sopId)).closed;
}

/** What an exit pass did: the enrollments it closed, and how many it evaluated (queued checks and re-checks). */
export interface ExitPassResult {
  closed: number;
  evaluated: number;
}

/** `applyExits`, with the number of enrollments it evaluated. */
export async function exitPass(db: Transactional, sopId: string): Promise<ExitPassResult> {
  return db.transaction(async (m) => {
    const sop = await activeSop(m, sopId);
    if (!sop) return { closed: 0, evaluated: 0 };
    const def = sop.definition;
    // Read before the evaluation's snapshot: the bound only moves up, so an older reading re-checks more, never less.
    const [horizon]: RecheckHorizon[] = await m.query(
      `SELECT coalesce(exit_recheck_from, '0')::text AS since, coalesce(exit_recheck_changes_from, '0')::text AS changes_since,
              exit_recheck_next::text AS next, exit_recheck_after::text AS after
         FROM sops WHERE id = $1`, [sopId]);
    const conditions: string[] = [];
    const params: unknown[] = [sopId, horizon.since, sop.tenantId, horizon.changes_since];
    const param = (v: unknown) => `$${params.push(v)}`;
    for (const exit of def.policies.exitOn) {
      if (exit.on === 'leftSegment' && 'segmentId' in def.audience) {
        // Only segment entries can leave the segment: a contact handed over from another SOP entered without it.
        // Probed by contact (its few open memberships), the segment compared as text (see above); `OFFSET 0` keeps the
        // probe per candidate.
        conditions.push(`WHEN e.entry_no > 0 AND NOT EXISTS (SELECT 1 FROM segment_memberships sm WHERE sm.contact_id = e.contact_id
          AND sm.exited_at IS NULL AND sm.segment_id::text = ${param(def.audience.segmentId)} OFFSET 0) THEN 'left the segment'`);
      } else if (exit.on === 'replied' || exit.on === 'bought') {
        // A response or a purchase after the contact entered: the times the responses and events update.
        const column = exit.on === 'replied' ? 'last_responded_at' : 'last_order_at';
        conditions.push(`WHEN EXISTS (SELECT 1 FROM contacts c WHERE c.id = e.contact_id AND c.${column} > e.entered_at) THEN '${exit.on}'`);
      } else if (exit.on === 'tagAdded' || exit.on === 'tagRemoved') {
        const action = exit.on === 'tagAdded' ? 'added' : 'removed';
        conditions.push(`WHEN EXISTS (SELECT 1 FROM tag_events te WHERE te.contact_id = e.contact_id AND te.tag_id = ${param(exit.tagId)}
          AND te.action = '${action}' AND te.at > e.entered_at) THEN 'tag ${action}'`);
      }
    }
    // Without exit conditions nothing can close: the recent changes are not read (a constant false), the queued
    // checks (of an earlier version's conditions) are still cleared and the bounds still move.
    for (const method of PROBES_ONLY) await m.query(`SET LOCAL ${method} = off`);
    const [row]: { xmin: string; evaluated: number; ids: string[]; reasons: string[] }[] = await m.query(
      `WITH queued AS (
         DELETE FROM sop_exit_checks q WHERE q.sop_id = $1 RETURNING q.contact_id
       ), candidates AS MATERIALIZED (
         SELECT e.* FROM (SELECT DISTINCT contact_id FROM queued) q CROSS JOIN LATERAL (
           SELECT e.id, e.contact_id, e.entered_at, e.entry_no FROM enrollments e
            WHERE e.contact_id = q.contact_id AND e.status = 'active' AND e.sop_id::text = $1::text OFFSET 0) e
         UNION
         SELECT e.* FROM (
           SELECT DISTINCT c.id::uuid AS contact_id FROM domain_events d CROSS JOIN jsonb_array_elements_text(d.payload->'contactIds') AS c(id)
            WHERE ${conditions.length > 0} AND d.tenant_id = $3 AND d.written_xid >= $4::xid8
              AND d.type IN (${EXIT_CHANGE_TYPES}) AND d.payload ? 'contactIds'
         ) r CROSS JOIN LATERAL (
           SELECT e.id, e.contact_id, e.entered_at, e.entry_no FROM enrollments e
            WHERE e.contact_id = r.contact_id AND e.status = 'active' AND e.sop_id::text = $1::text AND e.entered_xid >= $2::xid8 OFFSET 0) e
       ), exiting AS MATERIALIZED (
         SELECT e.id, ${conditions.length ? `CASE ${conditions.join(' ')} END` : 'NULL::text'} AS reason FROM candidates e
       )
       SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin,
              (SELECT count(*) FROM queued) AS _q, (SELECT count(*)::int FROM exiting) AS evaluated,
              (SELECT coalesce(array_agg(id::text ORDER BY id), '{}') FROM exiting WHERE reason IS NOT NULL) AS ids,
              (SELECT coalesce(array_agg(reason ORDER BY id), '{}') FROM exiting WHERE reason IS NOT NULL) AS reasons`,
      params,
    );
    await moveRecheckBound(m, sopId, horizon, row);
    for (const method of ['enable_hashjoin', 'enable_mergejoin', 'enable_material']) await m.query(`SET LOCAL ${method} TO DEFAULT`);
    const byReason = new Map<string, string[]>();
    row.ids.forEach((id, i) => byReason.set(row.reasons[i], [...(byReason.get(row.reasons[i]) ?? []), id]));
    let closed = 0;
    for (const [reason, ids] of byReason) {
      const [{ n }] = await m.query(
        `WITH closed AS (
           UPDATE enrollments e SET status = 'exited', closed_at = now(), close_reason = $2, next_due_at = NULL
            WHERE e.id = ANY($1::bigint[]) AND (e.status || '') = 'active' RETURNING e.id
         ), cancelled AS (
           UPDATE tasks t SET status = 'cancelled', cancel_reason = $2, finished_at = now()
            WHERE t.enrollment_id = ANY(ARRAY(SELECT id FROM closed)) AND t.occurrence IS NULL AND (t.status || '') = 'pending' RETURNING 1
         )
         SELECT (SELECT count(*)::int FROM closed) AS n, (SELECT count(*) FROM cancelled) AS _`,
        [ids, reason]);
      closed += n;
    }
    return { closed, evaluated: row.evaluated };
  });
}

/**
 * Access methods the exit pass's and small enrollment passes' statements go without: what is left is index probes.
 * Not a materialized inner side either: with statistics that took the SOP's enrollments for a row or so (taken
 * before a bulk enrollment), a nested loop could rescan all of them from memory once per candidate.
 */
const PROBES_ONLY = ['enable_seqscan', 'enable_hashjoin', 'enable_mergejoin', 'enable_material'];

/**
 * After an exit pass evaluated with snapshot `snap`: if `snap`'s xmin is past the id of the pass that kept the kept
 * snapshot (every transaction that had an id then has ended), the re-check bound moves up to the kept snapshot's xmin,
 * the change bound to where the re-check bound was, and `snap` is kept instead, with this pass's id (taken here if the
 * pass wrote nothing yet: after its snapshot either way); the first pass only keeps its snapshot (the change bound
 * stays at the SOP's creation). Only if the row still keeps what this pass read: a concurrent pass that moved them
 * first wins, and this one changes nothing. Nor when the row is locked (a page of a journey handing over to this one
 * holds it): the pass does not wait, since it goes on to lock tasks' rollup rows that such a page may hold, and a
 * later pass moves the bounds as well.
 */
async function moveRecheckBound(m: Queryable, sopId: string, kept: RecheckHorizon, snap: { xmin: string }): Promise<void> {
  if (kept.next !== null && kept.after !== null && BigInt(snap.xmin) <= BigInt(kept.after)) return;
  await m.query(
    `UPDATE sops SET exit_recheck_changes_from = CASE WHEN $2::xid8 IS NULL THEN exit_recheck_changes_from
                                                      ELSE coalesce(exit_recheck_from, exit_recheck_changes_from) END,
                     exit_recheck_from = coalesce($2::xid8, exit_recheck_from), exit_recheck_next = $3::xid8,
                     exit_recheck_after = pg_current_xact_id()
      WHERE id = (SELECT id FROM sops WHERE id = $1 FOR NO KEY UPDATE SKIP LOCKED)
        AND exit_recheck_next IS NOT DISTINCT FROM $2::xid8 AND exit_recheck_after IS NOT DISTINCT FROM $4::xid8`,
    [sopId, kept.next, snap.xmin, kept.after]);
}

/** The exit pass's re-check bounds as read before its snapshot (see `applyExits`). */
interface RecheckHorizon {
  since: string;
  changes_since: string;
  next: string | null;
  after: string | null;
}

/** The outbox events that announce a change an exit condition can read (the exit-check trigger's own filter). */
const EXIT_CHANGE_TYPES = `'contact.updated', 'contact.tags_changed', 'segment.exited'`;

export interface PageResult {
  tasks: number;
  rescheduled: number;
  completed: number;
  /** held back a day by a contact cap or an executor's capacity */
  deferred: number;
  /** a full page was taken: there may be more due now */
  more: boolean;
}

interface DueRow extends ContactScopeRow {
  id: string;
  contact_id: string;
  next_step: number;
  next_due_at: Date;
  entered_at: Date;
  finished_at: Date | null;
  version_id: string;
  owner_id: string | null;
}

/**
 * Takes up to `limit` enrollments due by `now` and, for each, either creates its step's task
 * (rendered content, resolved executor, due window in the contact's zone) and moves it to the next
 * step, or, when the step's window opens later, sets it to wake then. One transaction per page.
 */
export async function materializeDuePage(db: Transactional, sopId: string, now: Date, limit: number): Promise<PageResult> {
  return db.transaction(async (m) => {
    const sop = await activeSop(m, sopId, 'FOR SHARE OF s'); // a concurrent pause waits for this page, then stops the next
    if (!sop) return { tasks: 0, rescheduled: 0, completed: 0, deferred: 0, more: false };
    const due: DueRow[] = await m.query(
      `SELECT e.id, e.contact_id, e.next_step, e.next_due_at, e.entered_at, e.finished_at, e.sop_version_id AS version_id,
              c.owner_id, ${CONTACT_SCOPE_COLUMNS}
         FROM enrollments e JOIN contacts c ON c.id = e.contact_id
        WHERE e.sop_id = $1 AND e.status = 'active' AND e.next_due_at <= $2
        ORDER BY e.next_due_at, e.id
        LIMIT $3
        FOR UPDATE OF e SKIP LOCKED`,
      [sopId, now, limit],
    );
    if (!due.length) return { tasks: 0, rescheduled: 0, completed: 0, deferred: 0, more: false };
    const ctx = await pageContext(m, sop, due[0].next_due_at); // rows come earliest first
    await lockHandoverTargets(m, sop.tenantId, ctx.versions);
    const plan = new PagePlanner(sop, ctx, now);
    due.forEach((row) => plan.add(row));
    await plan.admit(m);
    await plan.write(m);
    return { ...plan.counts, more: due.length === limit };
  });
}

export async function sopStatus(db: Queryable, sopId: string): Promise<'draft' | 'active' | 'paused' | 'archived' | null> {
  const [row] = await db.query(`SELECT status FROM sops WHERE id = $1`, [sopId]);
  return row?.status ?? null;
}

/** When the dispatcher must next look at this SOP: its earliest due enrollment, or null. */
export async function nextDueAt(db: Queryable, sopId: string): Promise<Date | null> {
  const [row] = await db.query(
    `SELECT min(next_due_at) AS at FROM enrollments WHERE sop_id = $1 AND status = 'active'`, [sopId]);
  return row.at ?? null;
}

/** What a page needs besides its rows, read once: versions, the calendar, the tenant's people. */
interface PageContext extends People {
  versions: Map<string, SopDefinition>;
  calendar: BusinessCalendar;
}

/** `earliestDue`: leaves that ended before it cannot cover any of the page's tasks. */
/**
 * The journeys this SOP hands contacts over to, locked (FOR SHARE, in id order) before the page takes any other lock.
 * Taken at the hand-over, after the page's tasks, their rollup rows and its contacts, it closed cycles with that
 * journey's exit pass, archive or enrollment, which lock the journey first and such rows after. Held to the end, it
 * also keeps the journey's version as the hand-over's statement reads it.
 */
async function lockHandoverTargets(m: Queryable, tenantId: string, versions: Map<string, SopDefinition>): Promise<void> {
  const ids = [...new Set([...versions.values()].map((d) => d.policies.onFinish?.handoverSopId).filter((id): id is string => !!id))].sort();
  if (ids.length) await m.query(`SELECT 1 FROM sops WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR SHARE`, [tenantId, ids]);
}

async function pageContext(db: Queryable, sop: ActiveSop, earliestDue: Date): Promise<PageContext> {
  // One after another: `db` is the page's transaction, a single connection that runs one query at a time.
  const versions: { id: string; definition: SopDefinition }[] = await db.query(`SELECT id, definition FROM sop_versions WHERE sop_id = $1`, [sop.id]);
  const people = await loadPeople(db, sop.tenantId, earliestDue);
  const calendar = await loadCalendar(db, sop.tenantId);
  return { ...people, versions: new Map(versions.map((v) => [v.id, v.definition])), calendar };
}

/** Builds one page's writes in memory, then sends them as three set-based statements. */
class PagePlanner {
  readonly counts = { tasks: 0, rescheduled: 0, completed: 0, deferred: 0 };
  private readonly drafts: { row: DueRow; def: SopDefinition; step: SopStep; window: DueWindow; executorId: string | null; pool?: string[] }[] = [];
  private readonly tasks: unknown[][] = [[], [], [], [], [], [], [], [], [], [], [], []];
  private readonly moves: unknown[][] = [[], [], [], []];
  private readonly windows = new Map<string, DueWindow>();
  private readonly materialsJson = new Map<SopStep, string>();
  private readonly renderers = new Map<string, (scope: TemplateScope) => TaskContent>();
  private limits?: PageLimits;
  private readonly finished: { enrollmentId: string; contactId: string; versionId: string }[] = [];

  constructor(
    private readonly sop: ActiveSop,
    private readonly ctx: PageContext,
    private readonly now: Date,
  ) {}

  /** Completes a finished enrollment, sets a future window to wake then, or drafts the step's task. */
  add(row: DueRow): void {
    const def = this.ctx.versions.get(row.version_id)!;
    const step = def.steps[row.next_step];
    if (!step) return this.complete(row); // a version with fewer steps (enrollments moved to it on purpose)
    const window = this.window(row, def, row.next_step);
    if (window.dueAt > this.now) {
      this.counts.rescheduled++;
      return this.move(row.id, row.next_step, window.dueAt, 'active');
    }
    // Due at its window, or later when a limit or a leave moved it: who is away then decides.
    const dueAt = row.next_due_at > window.dueAt ? row.next_due_at : window.dueAt;
    const pool = roundRobinPool(step.executor, dueAt, this.ctx);
    if (pool) return void this.drafts.push({ row, def, step, window, executorId: null, pool });
    const cover = coverLeave(resolveExecutor(step.executor, row.owner_id, row.id, this.ctx), dueAt, row.contact_id, this.ctx);
    if ('deferUntil' in cover) {
      this.counts.deferred++;
      return this.move(row.id, row.next_step, cover.deferUntil, 'active'); // due in the step's window from the return on
    }
    this.drafts.push({ row, def, step, window, executorId: cover.executorId });
  }

  /** Holds the drafts to the contact caps and executor capacity: admitted ones become tasks, the rest wait a day. */
  async admit(m: Queryable): Promise<void> {
    const policies = this.sop.definition.policies;
    const candidate = (d: (typeof this.drafts)[number]) =>
      ({ contactId: d.row.contact_id, zone: d.row.timezone, executorId: d.executorId, dueAt: d.window.dueAt, pool: d.pool });
    this.limits = await PageLimits.load(m, this.sop.tenantId, this.drafts.map(candidate),
      { priority: policies.priority, capacity: policies.executorDailyCapacity, overflow: policies.overflow, zone: this.sop.definition.timezone, teamOf: this.ctx.teamOf });
    for (const d of this.drafts) {
      const admission = this.limits.admit(candidate(d));
      if (admission.admitted) this.task(d.row, d.def, d.step, d.window, admission.executorId);
      else {
        this.counts.deferred++;
        const tomorrow = DateTime.fromJSDate(d.window.dueAt, { zone: d.row.timezone }).plus({ days: 1 }).startOf('day').toJSDate();
        this.move(d.row.id, d.row.next_step, tomorrow, 'active');
      }
    }
  }

  private task(row: DueRow, def: SopDefinition, step: SopStep, window: DueWindow, executorId: string | null): void {
    const { name: variant, template } = pickVariant(step, row.id);
    const { content, heldReason } = this.render(`${row.version_id}:${row.next_step}:${variant ?? ''}`, template, {
      contact: contactScope(row),
      owner: row.owner_id ? this.ctx.users.get(row.owner_id) ?? null : null,
      sop: { name: this.sop.name }, step: { name: step.name },
      executor: executorId ? this.ctx.users.get(executorId) ?? null : null,
    });
    const t = this.tasks;
    // Times go as ISO text: node-pg's own Date formatting costs more than the rest of the row.
    [row.version_id, row.next_step, row.id, row.contact_id, executorId, step.channel, content, variant,
      this.materials(step), window.dueAt.toISOString(), window.dueUntil.toISOString(), heldReason].forEach((v, i) => t[i].push(v));
    this.counts.tasks++;
    const next = def.steps[row.next_step + 1];
    if (next) this.move(row.id, row.next_step + 1, this.window(row, def, row.next_step + 1).dueAt, 'active');
    else this.complete(row, row.next_step + 1);
  }

  private materials(step: SopStep): string {
    let json = this.materialsJson.get(step);
    if (json === undefined) this.materialsJson.set(step, (json = JSON.stringify(step.content.materials)));
    return json;
  }

  private complete(row: DueRow, step = row.next_step): void {
    this.move(row.id, step, null, 'completed');
    if (!row.finished_at) this.finished.push({ enrollmentId: row.id, contactId: row.contact_id, versionId: row.version_id });
  }

  async write(m: Queryable): Promise<void> {
    await this.limits?.writeBumps(m);
    await this.writeTasksAndMoves(m);
    await this.finish(m);
  }

  /**
   * On-finish actions for the enrollments this page completed, in its transaction, so they run exactly
   * once: tags added and removed as the SOP, and a hand-over that enrolls the contact in another journey
   * (keyed by the finishing enrollment, so a retry enrolls nobody twice).
   */
  private async finish(m: Queryable): Promise<void> {
    for (const versionId of new Set(this.finished.map((d) => d.versionId))) {
      const done = this.finished.filter((d) => d.versionId === versionId); // each on the version it walked
      const { addTagIds, removeTagIds, handoverSopId } = this.ctx.versions.get(versionId)!.policies.onFinish;
      if (addTagIds.length || removeTagIds.length) {
        await changeTags(m, this.sop.tenantId, done.map((d) => d.contactId),
          { add: addTagIds, remove: removeTagIds, reason: `finished SOP "${this.sop.name}"` }, { type: 'sop', id: this.sop.id });
      }
      if (handoverSopId) await handOver(m, this.sop.tenantId, handoverSopId, done, this.now);
    }
  }

  private async writeTasksAndMoves(m: Queryable): Promise<void> {
    const [versionIds, steps, enrollmentIds, contactIds, executorIds, channels, contents, variants, materials, dueAts, dueUntils, heldReasons] = this.tasks;
    if (versionIds.length) {
      // A task whose content could not be rendered is held, with the reason (held-tasks.ts).
      await m.query(
        `INSERT INTO tasks (tenant_id, sop_id, sop_version_id, step_index, enrollment_id, contact_id, executor_id, channel, content,
                            variant, materials, due_at, due_until, held_reason, status)
         SELECT $1, $2, x.*, CASE WHEN x.held_reason IS NULL THEN 'pending' ELSE 'held' END
           FROM unnest($3::uuid[], $4::int[], $5::bigint[], $6::uuid[], $7::uuid[], $8::text[], $9::text[],
                       $10::text[], $11::jsonb[], $12::timestamptz[], $13::timestamptz[], $14::text[]) AS x(v, s, e, c, ex, ch, co, va, ma, da, du, held_reason)
         ON CONFLICT DO NOTHING`,
        [this.sop.tenantId, this.sop.id, versionIds, steps, enrollmentIds, contactIds, executorIds, channels, contents, variants,
          materials, dueAts, dueUntils, heldReasons],
      );
      await notifyHeldByVersion(m, this.sop.tenantId, this.sop.id, versionIds as string[], heldReasons as (string | null)[]);
    }
    const [ids, nextSteps, nextDue, statuses] = this.moves;
    await m.query(
      `UPDATE enrollments e SET next_step = x.step, next_due_at = x.due, status = x.status,
              closed_at = CASE WHEN x.status = 'completed' THEN now() END,
              close_reason = CASE WHEN x.status = 'completed' THEN 'finished' END,
              finished_at = CASE WHEN x.status = 'completed' THEN coalesce(e.finished_at, now()) ELSE e.finished_at END
         FROM unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::text[]) AS x(id, step, due, status)
        WHERE e.id = x.id`,
      [ids, nextSteps, nextDue, statuses],
    );
  }

  private move(id: string, step: number, due: Date | null, status: 'active' | 'completed'): void {
    [id, step, due?.toISOString() ?? null, status].forEach((v, i) => this.moves[i].push(v));
    if (status === 'completed') this.counts.completed++;
  }

  /**
   * Enrollments made in one pass share their entry instant, so a page needs few distinct windows:
   * each is computed once per (version, step, zone, entry instant).
   */
  private window(row: DueRow, def: SopDefinition, stepIndex: number): DueWindow {
    const policy = (): DayPolicy => ({
      zone: row.timezone, calendar: this.ctx.calendar, businessDaysOnly: def.policies.businessDaysOnly, quietHours: def.policies.quietHours,
    });
    const key = `${row.version_id}|${stepIndex}|${row.timezone}|${row.entered_at.getTime()}`;
    let window = this.windows.get(key);
    if (!window) this.windows.set(key, (window = journeyDueWindow(row.entered_at, def.steps[stepIndex].offsetDays ?? 0, def.steps[stepIndex].window!, policy())));
    // A step deferred by a limit waits past its own window: it is due in the window of the day it was moved to.
    if (stepIndex === row.next_step && row.next_due_at > window.dueUntil) return journeyDueWindow(row.next_due_at, 0, def.steps[stepIndex].window!, policy());
    return window;
  }


  private render(key: string, template: string, scope: TemplateScope): TaskContent {
    let render = this.renderers.get(key);
    if (!render) this.renderers.set(key, (render = compileTaskTemplate(template)));
    return render(scope);
  }
}

/**
 * Active journeys whose segment gained or lost members, that were handed contacts, or whose enrolled
 * contacts changed (a reply, a purchase, a tag: exit conditions), since outbox event `after`, and among the
 * `recheck` ids: the dispatchers to wake. Returns the newest event id seen (the cursor for the next call) and
 * `pending`: ids up to the cursor not visible yet. An outbox id is taken when the row is inserted, not when its
 * transaction commits, so a slower transaction may commit an id below the cursor; the caller passes those ids
 * back as `recheck` for a while (ids of rolled-back transactions never appear).
 */
export async function journeysToWake(db: Queryable, after: string, recheck: string[] = []): Promise<{ sopIds: string[]; cursor: string; pending: string[] }> {
  const [row] = await db.query(
    `WITH ev AS MATERIALIZED (
       SELECT id, tenant_id, type, payload FROM domain_events WHERE id > $1 OR id = ANY($2::bigint[])
     ), recent AS (
       SELECT id, tenant_id, (payload->>'segmentId')::uuid AS segment_id FROM ev WHERE type IN ('segment.entered', 'segment.exited')
     ), top AS (
       SELECT coalesce(max(id), $1::bigint) AS id FROM ev WHERE id > $1
     )
     SELECT (SELECT id FROM top) AS cursor,
            ARRAY(SELECT s.id FROM recent r JOIN sops s ON s.tenant_id = r.tenant_id AND s.segment_ids @> ARRAY[r.segment_id]
                   WHERE s.status = 'active' AND s.kind = 'journey'
                  UNION
                  SELECT (payload->>'sopId')::uuid FROM ev WHERE type = 'sop.handover'
                  UNION
                  SELECT s.id FROM ev d JOIN sops s ON s.tenant_id = d.tenant_id AND s.status = 'active' AND s.kind = 'journey'
                    JOIN sop_versions v ON v.sop_id = s.id AND v.version = s.current_version AND v.definition->'entry'->>'event' = d.type
                  UNION
                  SELECT e.sop_id FROM ev d CROSS JOIN jsonb_array_elements_text(d.payload->'contactIds') AS c(id)
                    JOIN enrollments e ON e.contact_id = c.id::uuid AND e.status = 'active'
                   WHERE d.type IN ('contact.updated', 'contact.tags_changed')) AS sop_ids,
            ARRAY(SELECT g::text FROM generate_series($1::bigint + 1, (SELECT id FROM top)) g WHERE NOT EXISTS (SELECT 1 FROM ev WHERE ev.id = g)
                  UNION ALL
                  SELECT r::text FROM unnest($2::bigint[]) r WHERE NOT EXISTS (SELECT 1 FROM ev WHERE ev.id = r)
                  LIMIT 10000) AS pending`,
    [after, recheck],
  );
  return { sopIds: row.sop_ids, cursor: String(row.cursor), pending: row.pending };
}

/** Where the outbox ends now: a relay starting fresh looks only at what comes next. */
export async function outboxEnd(db: Queryable): Promise<string> {
  const [row] = await db.query(`SELECT coalesce(max(id), 0) AS id FROM domain_events`);
  return String(row.id);
}

/**
 * Enrolls finishing contacts in the hand-over journey (when it is active): entry number is the negated
 * finishing enrollment id, so it never meets a segment entry's and a retry adds nothing. An outbox
 * event wakes that journey's dispatcher.
 *
 * Each enrollment also queues an exit check (when the journey has exit conditions): it enters at the finishing
 * pass's `now`, which can be minutes old by the time this commits, and a change the contact made in between (a reply)
 * ran its outbox trigger before the enrollment existed and may already be below the target's change bound (see
 * `applyExits`). The next pass of the target evaluates it against everything committed by then.
 */
async function handOver(m: Queryable, tenantId: string, sopId: string, done: { enrollmentId: string; contactId: string }[], now: Date): Promise<void> {
  // The page locked the journey before anything else (`lockHandoverTargets`), so a version published before is the
  // one this statement's snapshot reads. Locked in the statement itself, a version published meanwhile was re-read on
  // the locked row but joined to the statement's older versions, and the contact silently not handed over.
  await m.query(
    `WITH target AS (
       SELECT s.id, v.id AS version_id, coalesce(v.definition->'entry'->>'reentry', 'never') AS reentry,
              ${hasExitConditions('v')} AS has_exits
         FROM sops s JOIN sop_versions v ON v.sop_id = s.id AND v.version = s.current_version
        WHERE s.tenant_id = $1 AND s.id = $2 AND s.status = 'active' AND s.kind = 'journey'
     ), entered AS (
       INSERT INTO enrollments (tenant_id, sop_id, sop_version_id, contact_id, entry_no, next_due_at, entered_at)
       SELECT $1, t.id, t.version_id, x.contact_id, -x.enrollment_id, $5, $5
         FROM target t, unnest($3::uuid[], $4::bigint[]) AS x(contact_id, enrollment_id)
        WHERE t.reentry = 'afterExit' OR NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.sop_id = t.id AND e.contact_id = x.contact_id)
       ON CONFLICT DO NOTHING RETURNING contact_id
     ), checks AS (
       INSERT INTO sop_exit_checks (tenant_id, sop_id, contact_id) SELECT $1, $2, e.contact_id FROM entered e, target t WHERE t.has_exits
     )
     INSERT INTO domain_events (tenant_id, type, payload)
     SELECT $1, 'sop.handover', json_build_object('sopId', $2::uuid, 'contacts', count(*)) FROM entered HAVING count(*) > 0`,
    [tenantId, sopId, done.map((d) => d.contactId), done.map((d) => d.enrollmentId), now],
  );
}
