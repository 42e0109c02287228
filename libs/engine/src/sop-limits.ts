/**
 * Limits a page of journey tasks must respect: the tenant's per-contact cap across all SOPs (tasks per
 * day and per week, in the contact's zone), where a higher-priority SOP takes the place of a
 * lower-priority journey task not yet done, and the SOP's per-executor daily capacity with its overflow
 * rule (defer to the next working day, or reassign to the least-loaded teammate with room); and round robin's
 * pick of the least-loaded team member.
 *
 * Pages of different SOPs (and of one SOP) run at once and each counts committed tasks, so before it counts,
 * a page locks the rows of the contacts it may write for (when the tenant caps contacts), then of the executors
 * (and their teammates, for `reassign`) when the SOP has a capacity, each set in id order: two pages that count
 * the same person run one after the other, the second counting the first's tasks, and they never deadlock.
 * Row locks live in the rows themselves, not in Postgres's shared lock table, so a page of any size takes them
 * (one advisory lock per contact could exhaust that table: max_locks_per_transaction × connections). FOR NO KEY
 * UPDATE does not conflict with the FOR KEY SHARE that the foreign keys of task inserts take.
 */
import { DateTime } from 'luxon';
import { hasExitConditions } from './exit-conditions';
import { COUNTED, DayLoad, dayOf, leastLoaded } from './executor-load';
import type { Queryable } from './queryable';

export interface ContactCaps {
  perDay: number | null;
  perWeek: number | null;
}

export interface Candidate {
  /** null for group tasks: contact caps do not apply */
  contactId: string | null;
  zone: string;
  executorId: string | null;
  dueAt: Date;
  /** round robin: the team members to pick from (the least loaded that day); `executorId` is then ignored */
  pool?: string[];
}

/** Which limit refused a task: said on a deferred task's history, and in a held task's reason. */
export type Refusal = 'contact cap' | 'executor capacity';
export type Admission = { admitted: true; executorId: string | null } | { admitted: false; reason: Refusal };

/** An existing pending journey task that yields its place: deleted, and its enrollment rewound to that step. */
export interface Bump {
  taskId: string;
  /** the next day: the enrollment's next look; the step's window is worked out again then */
  retryAt: Date;
}

interface Held {
  id: string;
  enrollment_id: string | null;
  contact_id: string;
  executor_id: string | null;
  due_at: Date;
  priority: number;
  /** a pending journey task whose enrollment is still active and past its step: it can give way */
  bumpable: boolean;
}

const weekOf = (at: Date, zone: string) => DateTime.fromJSDate(at, { zone }).toFormat("kkkk-'W'WW");

export async function loadCaps(db: Queryable, tenantId: string): Promise<ContactCaps> {
  const [row] = await db.query(`SELECT contact_cap_per_day, contact_cap_per_week FROM tenants WHERE id = $1`, [tenantId]);
  return { perDay: row?.contact_cap_per_day ?? null, perWeek: row?.contact_cap_per_week ?? null };
}

/** Row locks on the people a page counts: contacts first, then users, each by id, so pages never deadlock. */
async function lockCounted(m: Queryable, tenantId: string, contactIds: string[], userIds: string[]): Promise<void> {
  for (const [table, ids] of [['contacts', contactIds], ['users', userIds]] as const) {
    if (!ids.length) continue;
    await m.query(
      `SELECT count(*) FROM (SELECT id FROM ${table} WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR NO KEY UPDATE) locked`,
      [tenantId, ids]);
  }
}

/**
 * A bump rewinds another SOP's enrollment, whose row a page of that SOP in flight may hold while it waits for
 * this page's contacts: waiting for it would deadlock. Such a task is counted but does not give way.
 * The SOP is held too, and must be running or paused: a bump may reopen a finished enrollment, which an archive
 * closing the SOP's active ones would otherwise miss. KEY SHARE is the least lock that every status change (the
 * API's FOR UPDATE) waits for; the SOP's own enrollment and exit passes (NO KEY UPDATE) do not stop a bump. While a
 * status change holds the SOP, its tasks do not give way.
 */
async function keepOnlyLockableBumps(m: Queryable, held: Held[]): Promise<void> {
  const wanted = held.filter((h) => h.bumpable && h.enrollment_id).map((h) => h.enrollment_id!);
  if (!wanted.length) return;
  const locked: { id: string }[] = await m.query(
    `SELECT e.id FROM enrollments e JOIN sops s ON s.id = e.sop_id
      WHERE e.id = ANY($1::bigint[]) AND s.status IN ('active', 'paused')
      ORDER BY e.id FOR NO KEY UPDATE OF e SKIP LOCKED FOR KEY SHARE OF s SKIP LOCKED`, [wanted]);
  const lockedIds = new Set(locked.map((r) => String(r.id)));
  for (const h of held) if (h.bumpable && !lockedIds.has(String(h.enrollment_id))) h.bumpable = false;
}

const unique = (ids: (string | null)[]): string[] => [...new Set(ids.filter((id): id is string => !!id))];

export class PageLimits {
  readonly bumps: Bump[] = [];
  private readonly held = new Map<string, Held[]>();
  private load = new DayLoad();

  private constructor(
    private readonly caps: ContactCaps,
    private readonly priority: number,
    private readonly capacity: number | undefined,
    private readonly overflow: 'defer' | 'reassign',
    private readonly sopZone: string,
    private readonly teamOf: Map<string, string[]>,
  ) {}

  /** Locks, then reads, for the page's contacts and executors, the tasks that count against the limits. */
  static async load(
    m: Queryable, tenantId: string, candidates: Candidate[],
    sop: { priority: number; capacity?: number; overflow: 'defer' | 'reassign'; zone: string; teamOf: Map<string, string[]>; lookAheadDays?: number },
  ): Promise<PageLimits> {
    const limits = new PageLimits(await loadCaps(m, tenantId), sop.priority, sop.capacity, sop.overflow, sop.zone, sop.teamOf);
    if (!candidates.length) return limits;
    const capped = limits.caps.perDay !== null || limits.caps.perWeek !== null;
    const contactIds = capped ? unique(candidates.map((c) => c.contactId)) : [];
    const executors = sop.capacity === undefined ? [] : unique(candidates.flatMap((c) => [
      c.executorId, ...(c.pool ?? []), ...(c.executorId && sop.overflow === 'reassign' ? sop.teamOf.get(c.executorId) ?? [] : [])]));
    await lockCounted(m, tenantId, contactIds, executors);
    const from = new Date(Math.min(...candidates.map((c) => c.dueAt.getTime())) - 8 * 86_400_000);
    // Tasks may be admitted up to `lookAheadDays` after their candidate's time (recurring and broadcast tasks look a week on).
    const to = new Date(Math.max(...candidates.map((c) => c.dueAt.getTime())) + (8 + (sop.lookAheadDays ?? 0)) * 86_400_000);
    if (capped) await limits.readHeld(m, tenantId, contactIds, from, to);
    // Round robin evens out load with or without a capacity (unlocked without one: fair, not guaranteed, under concurrency).
    limits.load = await DayLoad.read(m, tenantId, unique([...executors, ...candidates.flatMap((c) => c.pool ?? [])]), sop.zone, from, to);
    return limits;
  }

  private async readHeld(m: Queryable, tenantId: string, contactIds: string[], from: Date, to: Date): Promise<void> {
    const held: Held[] = await m.query(
      `SELECT t.id, t.enrollment_id, t.contact_id, t.executor_id, t.due_at, coalesce((v.definition->'policies'->>'priority')::int, 50) AS priority,
              (t.status = 'pending' AND ((e.status = 'active' AND e.next_step > t.step_index)
                OR (e.status = 'completed' AND e.close_reason = 'finished' AND e.next_step = t.step_index + 1))) AS bumpable
         FROM tasks t JOIN sop_versions v ON v.id = t.sop_version_id LEFT JOIN enrollments e ON e.id = t.enrollment_id
        WHERE t.tenant_id = $1 AND t.contact_id = ANY($2::uuid[]) AND t.status = ANY($3) AND t.due_at >= $4 AND t.due_at < $5`,
      [tenantId, contactIds, COUNTED, from, to],
    );
    await keepOnlyLockableBumps(m, held);
    for (const h of held) this.held.set(h.contact_id, [...(this.held.get(h.contact_id) ?? []), h]);
  }

  /** Admits a task (counting it), or says which limit defers it. */
  admit(c: Candidate): Admission {
    if (c.contactId && !this.withinContactCaps(c.contactId, c)) return { admitted: false, reason: 'contact cap' };
    const executorId = c.pool ? this.leastLoadedWithRoom(c.pool, c.dueAt) : this.executorWithRoom(c);
    if (executorId === undefined) return { admitted: false, reason: 'executor capacity' };
    if (c.contactId) {
      const mine: Held = {
        id: '', enrollment_id: null, contact_id: c.contactId, executor_id: executorId, due_at: c.dueAt, priority: this.priority, bumpable: false,
      };
      this.held.set(c.contactId, [...(this.held.get(c.contactId) ?? []), mine]);
    }
    if (executorId) this.count(executorId, c.dueAt, 1);
    return { admitted: true, executorId };
  }

  /** Within the caps, after lower-priority pending journey tasks on that day or week give way if needed. */
  private withinContactCaps(contactId: string, c: Candidate): boolean {
    const checks: [number | null, (at: Date) => string][] = [[this.caps.perDay, (at) => dayOf(at, c.zone)], [this.caps.perWeek, (at) => weekOf(at, c.zone)]];
    for (const [cap, period] of checks) {
      if (cap === null) continue;
      const key = period(c.dueAt);
      const same = (this.held.get(contactId) ?? []).filter((h) => period(h.due_at) === key); // after any bump of the day check
      if (same.length < cap) continue;
      const yielding = same.filter((h) => h.bumpable && h.priority < this.priority).sort((a, b) => a.priority - b.priority)[0];
      if (!yielding) return false;
      this.bump(yielding, c.zone);
    }
    return true;
  }

  private bump(h: Held, zone: string): void {
    this.held.set(h.contact_id, (this.held.get(h.contact_id) ?? []).filter((x) => x !== h));
    if (h.executor_id) this.count(h.executor_id, h.due_at, -1);
    const retryAt = DateTime.fromJSDate(h.due_at, { zone }).plus({ days: 1 }).startOf('day').toJSDate();
    this.bumps.push({ taskId: h.id, retryAt });
  }

  /** The executor, a teammate with room (reassign), or undefined when the task must wait. */
  private executorWithRoom(c: Candidate): string | null | undefined {
    if (this.capacity === undefined || !c.executorId || this.room(c.executorId, c.dueAt) > 0) return c.executorId;
    if (this.overflow !== 'reassign') return undefined;
    const mates = (this.teamOf.get(c.executorId) ?? []).filter((u) => this.room(u, c.dueAt) > 0);
    mates.sort((a, b) => this.room(b, c.dueAt) - this.room(a, c.dueAt) || a.localeCompare(b));
    return mates[0];
  }

  /** Round robin: the least-loaded member that day among those with room; undefined when none has any. */
  private leastLoadedWithRoom(pool: string[], at: Date): string | undefined {
    const open = this.capacity === undefined ? pool : pool.filter((u) => this.room(u, at) > 0);
    return leastLoaded(open, dayOf(at, this.sopZone), this.load);
  }

  private room(executorId: string, at: Date): number {
    return this.capacity! - this.load.get(executorId, dayOf(at, this.sopZone));
  }

  private count(executorId: string, at: Date, n: number): void {
    this.load.add(executorId, dayOf(at, this.sopZone), n);
  }

  /** Deletes the bumped tasks and rewinds their enrollments, in the page's transaction. */
  async writeBumps(m: Queryable): Promise<void> {
    if (!this.bumps.length) return;
    // The same condition as when the tasks were read, checked again under the delete's lock: a task done
    // meanwhile, or an enrollment that moved on, stays.
    await m.query(
      // A completed enrollment reopens at its last step (its on-finish actions, already run, do not run again),
      // unless the contact has entered the SOP again since. It reopens as an entry would for its exits: a change
      // made while it was closed queued no check (the trigger looks at active enrollments), so it gets one, and a
      // change racing this transaction is re-checked by transaction id (`applyExits`).
      `WITH gone AS (
         DELETE FROM tasks t USING enrollments e
          WHERE t.id = ANY($1::bigint[]) AND t.status = 'pending' AND e.id = t.enrollment_id
            AND ((e.status = 'active' AND e.next_step > t.step_index)
              OR (e.status = 'completed' AND e.close_reason = 'finished' AND e.next_step = t.step_index + 1
                  AND NOT EXISTS (SELECT 1 FROM enrollments o WHERE o.sop_id = e.sop_id AND o.contact_id = e.contact_id AND o.status = 'active')))
         RETURNING t.id, t.enrollment_id, t.step_index, e.status = 'completed' AS reopens, e.tenant_id, e.sop_id, e.contact_id
       ), rewound AS (
         UPDATE enrollments e SET next_step = g.step_index, next_due_at = x.retry, status = 'active', closed_at = NULL, close_reason = NULL,
                entered_xid = CASE WHEN g.reopens THEN pg_current_xact_id() ELSE e.entered_xid END
           FROM gone g JOIN unnest($1::bigint[], $2::timestamptz[]) AS x(task_id, retry) ON x.task_id = g.id
          WHERE e.id = g.enrollment_id
         RETURNING 1
       )
       INSERT INTO sop_exit_checks (tenant_id, sop_id, contact_id)
       SELECT g.tenant_id, g.sop_id, g.contact_id FROM gone g
         JOIN sops s ON s.id = g.sop_id JOIN sop_versions v ON v.sop_id = s.id AND v.version = s.current_version
        WHERE g.reopens AND ${hasExitConditions('v')}`,
      [this.bumps.map((b) => b.taskId), this.bumps.map((b) => b.retryAt)],
    );
  }
}
