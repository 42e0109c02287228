/**
 * Occurrence work: a recurring SOP's firing or a broadcast creates one task per audience member (a
 * contact or a customer group) for each step, in keyset pages. Tasks are keyed by (SOP, occurrence,
 * step, target), so a page that runs twice, or a firing repeated after a worker restart, adds nothing.
 */
import { type BusinessCalendar, compileTaskTemplate, isOccurrence, occurrenceDueAt, occurrenceDueUntil, type SopDefinition, type SopStep, type TemplateScope, type Window } from '@sop/domain';
import { DateTime } from 'luxon';
import { loadCalendar, type Transactional } from './sop-dispatch';
import { groupInAudienceSql } from './group-audience';
import { NO_ROOM, notifyHeld } from './held-tasks';
import { type Candidate, PageLimits, type Refusal } from './sop-limits';
import { CONTACT_SCOPE_COLUMNS, contactScope, type ContactScopeRow, coverLeave, loadPeople, type People, pickVariant, resolveExecutor, roundRobinPool } from './sop-people';
import type { Queryable } from './queryable';

export interface OccurrencePage {
  tasks: number;
  /** keyset cursor: the last target id of this page */
  after: string | null;
  more: boolean;
  /** why nothing was done: not active, not an occurrence of the rule, not a working day */
  skipped?: string;
  /** the SOP is paused: nothing was done, the same page is due again after resume */
  held?: boolean;
}

interface Target {
  id: string;
  owner_id: string | null;
  name: string;
  /** a contact's template scope; null for a customer group */
  contact: Record<string, unknown> | null;
}

interface OccurrenceSop {
  id: string;
  tenant_id: string;
  name: string;
  status: string;
  version_id: string;
  definition: SopDefinition;
  first_published_at: Date;
}

const DEFAULT_DUE_MINUTES = 120;

export async function materializeOccurrencePage(
  db: Transactional, input: { sopId: string; occurrence: Date; after: string | null; limit: number },
): Promise<OccurrencePage> {
  return db.transaction(async (m) => {
    const sop = await occurrenceSop(m, input.sopId);
    const none = (skipped: string): OccurrencePage => ({ tasks: 0, after: input.after, more: false, skipped });
    if (sop?.status === 'paused') return { tasks: 0, after: input.after, more: true, held: true };
    if (!sop || sop.status !== 'active') return none('the SOP is not active');
    const def = sop.definition;
    if (def.kind === 'recurring') {
      if (!isOccurrence(def.schedule!.rrule, def.timezone, sop.first_published_at, input.occurrence)) return none('not an occurrence of the rule');
      const day = DateTime.fromJSDate(input.occurrence, { zone: def.timezone }).toISODate()!;
      if (def.policies.businessDaysOnly && !(await loadCalendar(m, sop.tenant_id)).isWorkingDay(day)) return none(`${day} is not a working day`);
    }
    const targets = await audiencePage(m, sop, input.after, input.limit);
    if (!targets.length) return { tasks: 0, after: input.after, more: false };
    const tasks = await insertTasks(m, sop, input.occurrence, targets);
    return { tasks, after: targets[targets.length - 1].id, more: targets.length === input.limit };
  });
}

/** The SOP and its current version, its row shared-locked: a pause or an archive waits for the page, then stops the next. */
async function occurrenceSop(m: Queryable, sopId: string): Promise<OccurrenceSop | undefined> {
  const [sop]: OccurrenceSop[] = await m.query(
    `SELECT s.id, s.tenant_id, s.name, s.status, v.id AS version_id, v.definition,
            (SELECT min(published_at) FROM sop_versions WHERE sop_id = s.id) AS first_published_at
       FROM sops s JOIN sop_versions v ON v.sop_id = s.id AND v.version = s.current_version
      WHERE s.id = $1 FOR SHARE OF s`,
    [sopId],
  );
  return sop;
}

/** The next page of the audience by id: customer groups, or contacts (a broadcast reads its snapshot). */
async function audiencePage(m: Queryable, sop: OccurrenceSop, after: string | null, limit: number): Promise<Target[]> {
  const a = sop.definition.audience;
  if ('groups' in a) {
    return m.query(
      `SELECT g.id, g.owner_id, g.name, NULL AS contact FROM customer_groups g LEFT JOIN users u ON u.id = g.owner_id
        WHERE g.tenant_id = $1 AND ($2::uuid IS NULL OR g.id > $2)
          AND ${groupInAudienceSql('g', 'u', '$3::uuid[]', '$4::uuid[]')}
        ORDER BY g.id LIMIT $5`,
      [sop.tenant_id, after, a.groups.ownerUserIds ?? null, a.groups.ownerTeamIds ?? null, limit],
    );
  }
  const source = sop.definition.kind === 'broadcast'
    ? `SELECT contact_id FROM broadcast_recipients WHERE sop_id = $2 AND ($3::uuid IS NULL OR contact_id > $3) ORDER BY contact_id LIMIT $4`
    : `SELECT contact_id FROM segment_memberships WHERE segment_id = $2 AND exited_at IS NULL AND ($3::uuid IS NULL OR contact_id > $3)
        ORDER BY contact_id LIMIT $4`;
  const rows: (ContactScopeRow & { id: string; owner_id: string | null })[] = await m.query(
    `SELECT c.id, c.owner_id, ${CONTACT_SCOPE_COLUMNS}
       FROM (${source}) page JOIN contacts c ON c.id = page.contact_id AND c.tenant_id = $1 ORDER BY c.id`,
    [sop.tenant_id, sop.definition.kind === 'broadcast' ? sop.id : a.segmentId, after, limit],
  );
  return rows.map((r) => ({ id: r.id, owner_id: r.owner_id, name: r.name, contact: contactScope(r) }));
}

/** Takes a broadcast's audience once, when it starts: later segment changes do not change who gets it. */
export async function snapshotBroadcast(db: Queryable, sopId: string): Promise<number> {
  const [{ n }] = await db.query(
    `WITH sop AS (
       SELECT s.id, s.tenant_id, (v.definition->'audience'->>'segmentId')::uuid AS segment_id
         FROM sops s JOIN sop_versions v ON v.sop_id = s.id AND v.version = s.current_version WHERE s.id = $1
     ), taken AS (
       INSERT INTO broadcast_recipients (sop_id, contact_id)
       SELECT sop.id, m.contact_id FROM sop JOIN segment_memberships m ON m.segment_id = sop.segment_id AND m.exited_at IS NULL
        WHERE NOT EXISTS (SELECT 1 FROM broadcast_recipients r WHERE r.sop_id = $1)
       ON CONFLICT DO NOTHING RETURNING 1
     )
     SELECT count(*)::int AS n FROM taken`,
    [sopId],
  );
  return n;
}


/** The targets with these ids (a retry's held tasks), as an audience page reads them. */
async function targetsById(m: Queryable, tenantId: string, forGroups: boolean, ids: string[]): Promise<Map<string, Target>> {
  if (forGroups) {
    const groups: Target[] = await m.query(
      `SELECT id, owner_id, name, NULL AS contact FROM customer_groups WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [tenantId, ids]);
    return new Map(groups.map((g) => [g.id, g]));
  }
  const rows: (ContactScopeRow & { id: string; owner_id: string | null })[] = await m.query(
    `SELECT c.id, c.owner_id, ${CONTACT_SCOPE_COLUMNS} FROM contacts c WHERE c.tenant_id = $1 AND c.id = ANY($2::uuid[])`, [tenantId, ids]);
  return new Map(rows.map((r) => [r.id, { id: r.id, owner_id: r.owner_id, name: r.name, contact: contactScope(r) }]));
}

/** How far a task may move for the limits: a week, so a daily rule's next firing is the latest it can meet. */
const HORIZON_DAYS = 7;
const DAY_MS = 86_400_000;
const DEFAULT_DUE_MINUTES_MS = DEFAULT_DUE_MINUTES * 60_000;
const windowMsOf = (step: SopStep) => (step.dueWithinMinutes ? step.dueWithinMinutes * 60_000 : DEFAULT_DUE_MINUTES_MS);
const joined = (...parts: (string | null | undefined)[]) => [...new Set(parts.filter(Boolean))].join(', ') || null;

type Due = { dueAt: Date; why: string | null };

/**
 * When an occurrence's task may fall due for one SOP's day policy. The occurrence's time of day, in the contact's
 * zone, is the task's window start, as a journey step's window is: on its own day and on each day after, moved off
 * non-working days and out of quiet hours (occurrenceDueAt); the window lasts the step's `dueWithinMinutes` of time
 * outside quiet hours (occurrenceDueUntil).
 * Remembered per (zone, instant): a page's contacts share a few zones.
 */
class Timing {
  private readonly seen = new Map<string, Due>();
  private readonly starts = new Map<string, Due>();
  constructor(private readonly calendar: BusinessCalendar, private readonly businessDaysOnly: boolean, private readonly quietHours?: Window) {}

  at(instant: Date, zone: string): Due {
    const key = `${zone}|${instant.getTime()}`;
    let due = this.seen.get(key);
    if (!due) {
      due = occurrenceDueAt(instant, { zone, calendar: this.calendar, businessDaysOnly: this.businessDaysOnly, quietHours: this.quietHours });
      this.seen.set(key, due);
    }
    return due;
  }

  /** When a window opened at `dueAt` closes: its length in time outside quiet hours (occurrenceDueUntil). */
  until(dueAt: Date, zone: string, windowMs: number): Date {
    return occurrenceDueUntil(dueAt, windowMs / 60_000, { zone, quietHours: this.quietHours });
  }

  /** The window start `days` days after the occurrence's own day, at its wall-clock time in the zone, moved as the policy says. */
  private start(occurrence: Date, zone: string, days: number): Due {
    const key = `${zone}|${occurrence.getTime()}|${days}`;
    let due = this.starts.get(key);
    // Wall-clock days (`plus({ days })` keeps the time of day across a daylight-saving change).
    if (!due) this.starts.set(key, (due = this.at(DateTime.fromJSDate(occurrence, { zone }).plus({ days }).toJSDate(), zone)));
    return due;
  }

  /** The first day to look at for a time: a day early, so a daylight-saving change or a moved window is never skipped. */
  private firstDay(occurrence: Date, from: Date): number {
    return Math.max(0, Math.floor((from.getTime() - occurrence.getTime()) / DAY_MS) - 1);
  }

  /**
   * When the task can be due at or after `from` (a leave's return, a retry's now): `from` itself when it falls inside a
   * day's window (as a journey entrant in an open window is due at entry), else the next window's start.
   */
  dueFrom(occurrence: Date, zone: string, from: Date, windowMs: number): Due {
    for (let days = this.firstDay(occurrence, from), guard = 0; guard < 800; days++, guard++) {
      const start = this.start(occurrence, zone, days);
      if (this.until(start.dueAt, zone, windowMs) <= from) continue; // that day's window is over
      return start.dueAt >= from ? start : this.at(from, zone);
    }
    throw new Error('no window found within two years');
  }

  /** The window starts after `after`, up to `until`, earliest first (each once: a skipped day lands on the next). */
  *startsAfter(occurrence: Date, zone: string, after: Date, until: Date): Generator<Due> {
    let last = after.getTime();
    for (let days = this.firstDay(occurrence, after); ; days++) {
      // Raw days past `until` (a day and an hour of slack for a daylight-saving change): later days only move later.
      if (occurrence.getTime() + days * DAY_MS > until.getTime() + DAY_MS + 3_600_000) return;
      const start = this.start(occurrence, zone, days);
      if (start.dueAt.getTime() > until.getTime()) return; // later days only move later
      if (start.dueAt.getTime() <= last) continue;
      last = start.dueAt.getTime();
      yield start;
    }
  }
}

/** One task before the limits: its target, zone, executor (or round-robin pool) and first due time. */
interface Draft {
  step: SopStep;
  index: number;
  t: Target;
  zone: string;
  executorId: string | null;
  dueAt: Date;
  why: string | null;
  pool?: string[];
}

/** A task placed within the limits (possibly on a later day), or held for want of room. */
interface Placed {
  executorId: string | null;
  dueAt: Date;
  dueUntil: Date;
  /** why it is not due at the occurrence: the day policy, a leave, a limit */
  deferred: string | null;
  held?: string;
}

/**
 * One SOP's occurrence tasks, from drafting to rendering: shared by a firing's pages and by the retry of tasks held
 * for want of room. `def` is the SOP's current version: its zone and policies; each task's step comes with it.
 */
class OccurrencePlanner {
  readonly forGroups: boolean;
  private readonly renderers = new Map<string, ReturnType<typeof compileTaskTemplate>>();
  private readonly materials = new Map<SopStep, string>();
  private limits?: PageLimits;

  private constructor(
    private readonly sop: { id: string; tenant_id: string; name: string; definition: SopDefinition },
    private readonly people: People,
    private readonly timing: Timing,
  ) {
    this.forGroups = 'groups' in sop.definition.audience;
  }

  static async load(m: Queryable, sop: OccurrencePlanner['sop'], at: Date): Promise<OccurrencePlanner> {
    const people = await loadPeople(m, sop.tenant_id, at);
    const p = sop.definition.policies;
    return new OccurrencePlanner(sop, people, new Timing(await loadCalendar(m, sop.tenant_id), p.businessDaysOnly, p.quietHours));
  }

  zoneOf(t: Target): string {
    return this.forGroups ? this.sop.definition.timezone : String(t.contact?.timezone ?? this.sop.definition.timezone);
  }

  /**
   * The task's executor and first due time, not before `from` (the occurrence; a retry's now): an executor on leave
   * then gives the task to the leave's substitute, or keeps it, due in the first window from the return on.
   */
  draft(occurrence: Date, step: SopStep, index: number, t: Target, from: Date = occurrence): Draft {
    const zone = this.zoneOf(t);
    const first = this.timing.dueFrom(occurrence, zone, from, windowMsOf(step));
    const pool = roundRobinPool(step.executor, first.dueAt, this.people) ?? undefined;
    const executorId = resolveExecutor(step.executor, t.owner_id, t.id, this.people);
    if (pool) return { step, index, t, zone, executorId, dueAt: first.dueAt, why: first.why, pool };
    const cover = coverLeave(executorId, first.dueAt, t.id, this.people);
    if (!('deferUntil' in cover)) return { step, index, t, zone, executorId: cover.executorId, dueAt: first.dueAt, why: first.why };
    const back = this.timing.dueFrom(occurrence, zone, cover.deferUntil, windowMsOf(step));
    return { step, index, t, zone, executorId, dueAt: back.dueAt, why: joined('executor on leave', back.why) };
  }

  private candidate(d: Draft, dueAt = d.dueAt): Candidate {
    return { contactId: this.forGroups ? null : d.t.id, zone: d.zone, executorId: d.executorId, dueAt, pool: d.pool };
  }

  /** Locks and reads what the drafts count against (sop-limits.ts). */
  async loadLimits(m: Queryable, drafts: Draft[]): Promise<void> {
    const p = this.sop.definition.policies;
    this.limits = await PageLimits.load(m, this.sop.tenant_id, drafts.map((d) => this.candidate(d)),
      { priority: p.priority, capacity: p.executorDailyCapacity, overflow: p.overflow, zone: this.sop.definition.timezone,
        teamOf: this.people.teamOf, lookAheadDays: HORIZON_DAYS + 7 });
  }

  /**
   * The first time at which the limits admit the task: its first due time, else each later day's window start (the
   * occurrence's time of day, moved as the day policy says; a journey step held back by a limit is due at its
   * window's start on the day it moves to, likewise), up to `until`. None: held, with the reason.
   */
  place(occurrence: Date, d: Draft, until: Date): Placed {
    let refusal: Refusal | undefined;
    const windowMs = windowMsOf(d.step);
    // Lazily: most tasks are admitted at their first due time, and each later day costs a wall-clock computation.
    const times = (function* (timing: Timing): Generator<Due> {
      yield { dueAt: d.dueAt, why: null };
      yield* timing.startsAfter(occurrence, d.zone, d.dueAt, until);
    })(this.timing);
    for (const at of times) {
      const admission = this.limits!.admit(this.candidate(d, at.dueAt));
      if (admission.admitted) {
        return { executorId: admission.executorId, dueAt: at.dueAt, dueUntil: this.timing.until(at.dueAt, d.zone, windowMs), deferred: joined(d.why, refusal, refusal && at.why) };
      }
      refusal = admission.reason;
    }
    return { executorId: d.executorId, dueAt: d.dueAt, dueUntil: this.timing.until(d.dueAt, d.zone, windowMs), deferred: null, held: `${NO_ROOM} ${HORIZON_DAYS} days: ${refusal}` };
  }

  /** The task's content for its executor (its variant as journeys pick them, sop-people.ts pickVariant). */
  render(d: Draft, executorId: string | null): { variant: string | null; content: string; heldReason: string | null; materials: string } {
    const owner = d.t.owner_id ? this.people.users.get(d.t.owner_id) ?? null : null;
    const scope: TemplateScope = {
      sop: { name: this.sop.name }, step: { name: d.step.name }, owner, executor: executorId ? this.people.users.get(executorId) ?? null : null,
      ...(this.forGroups ? { group: { name: d.t.name } } : { contact: d.t.contact ?? undefined }),
    };
    const variant = pickVariant(d.step, `${this.sop.id}:${d.t.id}`);
    let renderer = this.renderers.get(variant.template);
    if (!renderer) this.renderers.set(variant.template, (renderer = compileTaskTemplate(variant.template)));
    let materials = this.materials.get(d.step);
    if (materials === undefined) this.materials.set(d.step, (materials = JSON.stringify(d.step.content.materials)));
    return { variant: variant.name, ...renderer(scope), materials };
  }

  /** Deletes the journey tasks of lower priority that gave way, in the page's transaction. */
  async writeBumps(m: Queryable): Promise<void> {
    await this.limits?.writeBumps(m);
  }
}

/**
 * The page's tasks: rendered, assigned, timed and held to the limits as journeys are. Each task is due at the
 * occurrence in its contact's zone (a group's: the SOP's), moved off non-working days and out of quiet hours
 * (occurrenceDueAt). A task that a contact's cap or an executor's capacity cannot take moves to the start of the
 * next allowed day's window, up to a week on; with no room in that week it is held, with the reason, never written
 * over a limit, and queued for a retry when room appears (retryHeldTasks). Every move gets a 'deferred' history row
 * saying why. The occurrence stays the task's key, so a repeat still adds nothing.
 */
async function insertTasks(m: Queryable, sop: OccurrenceSop, occurrence: Date, targets: Target[]): Promise<number> {
  const planner = await OccurrencePlanner.load(m, sop, occurrence);
  const drafts = sop.definition.steps.flatMap((step, index) => targets.map((t) => planner.draft(occurrence, step, index, t)));
  await planner.loadLimits(m, drafts);
  const cols: unknown[][] = [[], [], [], [], [], [], [], [], [], [], [], []];
  for (const d of drafts) {
    const placed = planner.place(occurrence, d, new Date(d.dueAt.getTime() + HORIZON_DAYS * DAY_MS));
    const { variant, content, heldReason, materials } = planner.render(d, placed.executorId);
    [d.index, planner.forGroups ? null : d.t.id, planner.forGroups ? d.t.id : null, placed.executorId, d.step.channel, content,
      variant, materials, placed.dueAt, placed.dueUntil, heldReason ?? placed.held ?? null, placed.held ? null : placed.deferred].forEach((v, i) => cols[i].push(v));
  }
  await planner.writeBumps(m);
  // One statement: the tasks, for each one that moved (and was new) its 'deferred' history row, and for each held
  // for want of room its retry, first tried an hour after the occurrence.
  const [{ n }] = await m.query(
    `WITH x AS (
       SELECT * FROM unnest($5::int[], $6::uuid[], $7::uuid[], $8::uuid[], $9::text[], $10::text[], $11::text[], $12::jsonb[],
                            $13::timestamptz[], $14::timestamptz[], $15::text[], $16::text[])
                     AS x(s, c, g, ex, ch, co, va, ma, da, du, held_reason, defer_reason)
     ), ins AS (
       INSERT INTO tasks (tenant_id, sop_id, sop_version_id, occurrence, step_index, contact_id, group_id, executor_id, channel,
                          content, variant, materials, due_at, due_until, held_reason, status)
       SELECT $1, $2, $3, $4, s, c, g, ex, ch, co, va, ma, da, du, held_reason, CASE WHEN held_reason IS NULL THEN 'pending' ELSE 'held' END FROM x
       ON CONFLICT DO NOTHING RETURNING id, step_index, contact_id, group_id, due_at, held_reason
     ), history AS (
       INSERT INTO task_events (tenant_id, task_id, action, detail)
       SELECT $1, ins.id, 'deferred', jsonb_build_object('from', $4::timestamptz, 'to', ins.due_at, 'reason', x.defer_reason)
         FROM ins JOIN x ON x.s = ins.step_index AND coalesce(x.c, x.g) = coalesce(ins.contact_id, ins.group_id)
        WHERE x.defer_reason IS NOT NULL
       RETURNING 1
     ), retries AS (
       INSERT INTO task_hold_retries (task_id, tenant_id, sop_id, retry_at, until)
       SELECT id, $1, $2, $4::timestamptz + ${RETRY_EVERY}, due_at + interval '${HORIZON_DAYS} days' FROM ins WHERE held_reason LIKE '${NO_ROOM} %'
       RETURNING 1
     )
     SELECT (SELECT count(*)::int FROM ins) AS n, (SELECT count(*) FROM history) AS _, (SELECT count(*) FROM retries) AS _r`,
    [sop.tenant_id, sop.id, sop.version_id, occurrence, ...cols],
  );
  // A task held (content that could not be rendered, or no room within the week) keeps its reason; ops are told.
  await notifyHeld(m, sop.tenant_id, sop.id, sop.version_id, (cols[10] as (string | null)[]).filter((r): r is string => !!r));
  return n;
}

/** How often a task held for want of room is tried again (as SQL): room appears when tasks are skipped or cancelled, or limits rise. */
const RETRY_EVERY = `interval '1 hour'`;
/** How long one sweep spends on retries (measured: 5,000 tasks with no room take 2 to 3 s). */
const RETRY_BUDGET_MS = 30_000;

export interface HeldRetryRun {
  /** held tasks placed within the limits (now pending) */
  placed: number;
  /** tried, still no room: tried again in an hour */
  stillHeld: number;
  /** their week ended: they stay held, with their reason, and are not tried again */
  givenUp: number;
}

/**
 * Tasks held for want of room ("no room within 7 days: …") come back when room appears: run by the reminder sweep,
 * each due retry re-runs the task's placement from now (`now` inside a window, else the next window start) up to a week
 * after its first due time, under the same locks and limits as a firing's page (a contact cap or a capacity is never
 * overrun, however many pages write at once). A placed task becomes pending, with a `released` history row; one
 * still without room is tried again an hour later; past its week it stays held. Pages per SOP, `FOR UPDATE SKIP
 * LOCKED` on the retries and `status = 'held'` on the update: a task is placed once, however many sweeps run.
 */
export async function retryHeldTasks(db: Transactional, now: Date, tenantIds?: string[], pageSize = 500, budgetMs = RETRY_BUDGET_MS): Promise<HeldRetryRun> {
  const started = Date.now();
  const run: HeldRetryRun = { placed: 0, stillHeld: 0, givenUp: 0 };
  const tenants = tenantIds ?? null;
  const [{ n }] = await db.query(
    `WITH gone AS (DELETE FROM task_hold_retries WHERE until < $1 AND ($2::uuid[] IS NULL OR tenant_id = ANY($2)) RETURNING 1)
     SELECT count(*)::int AS n FROM gone`, [now, tenants]);
  run.givenUp = n;
  const sops: { sop_id: string }[] = await db.query(
    `SELECT DISTINCT sop_id FROM task_hold_retries WHERE retry_at <= $1 AND ($2::uuid[] IS NULL OR tenant_id = ANY($2))`, [now, tenants]);
  for (const { sop_id: sopId } of sops) {
    for (;;) {
      // Past the budget the rest waits for the next sweep (still due): a minute's sweep ends before the next.
      if (Date.now() - started > budgetMs) return run;
      const page = await retryPage(db, sopId, now, pageSize);
      run.placed += page.placed;
      run.stillHeld += page.stillHeld;
      if (!page.more) break;
    }
  }
  return run;
}

interface HeldRow {
  id: string;
  until: Date;
  occurrence: Date;
  step_index: number;
  target: string;
  due_at: Date;
  sop_version_id: string;
  status: string;
  held_reason: string | null;
}

async function retryPage(db: Transactional, sopId: string, now: Date, limit: number): Promise<{ placed: number; stillHeld: number; more: boolean }> {
  return db.transaction(async (m) => {
    const sop = await occurrenceSop(m, sopId);
    const nothing = { placed: 0, stillHeld: 0, more: false };
    if (sop?.status === 'paused') {
      await m.query(`UPDATE task_hold_retries SET retry_at = $2::timestamptz + ${RETRY_EVERY} WHERE sop_id = $1 AND retry_at <= $2`, [sopId, now]);
      return nothing;
    }
    if (sop?.status !== 'active') {
      await m.query(`DELETE FROM task_hold_retries WHERE sop_id = $1`, [sopId]); // archived: its held tasks stay a record
      return nothing;
    }
    const rows: HeldRow[] = await m.query(
      `SELECT r.task_id AS id, r.until, t.occurrence, t.step_index, coalesce(t.contact_id, t.group_id) AS target, t.due_at, t.sop_version_id,
              t.status, t.held_reason
         FROM task_hold_retries r JOIN tasks t ON t.id = r.task_id
        WHERE r.sop_id = $1 AND r.retry_at <= $2 ORDER BY r.retry_at, r.task_id LIMIT $3 FOR UPDATE OF r SKIP LOCKED`,
      [sopId, now, limit],
    );
    if (!rows.length) return nothing;
    const planner = await OccurrencePlanner.load(m, sop, now);
    const versions = new Map<string, SopDefinition>((await m.query(
      `SELECT id, definition FROM sop_versions WHERE sop_id = $1 AND id = ANY($2::uuid[])`, [sopId, [...new Set(rows.map((r) => r.sop_version_id))]],
    )).map((v: { id: string; definition: SopDefinition }) => [v.id, v.definition]));
    const targets = await targetsById(m, sop.tenant_id, planner.forGroups, rows.map((r) => r.target));
    const drafts: { row: HeldRow; d: Draft }[] = [];
    const done: string[] = []; // no longer held for room (or its step or target is gone): nothing to retry
    for (const row of rows) {
      const step = versions.get(row.sop_version_id)?.steps[row.step_index];
      const t = targets.get(row.target);
      if (row.status !== 'held' || !row.held_reason?.startsWith(NO_ROOM) || !step || !t) done.push(row.id);
      else drafts.push({ row, d: planner.draft(row.occurrence, step, row.step_index, t, new Date(Math.max(now.getTime(), row.due_at.getTime()))) });
    }
    await planner.loadLimits(m, drafts.map((x) => x.d));
    const cols: unknown[][] = [[], [], [], [], [], [], [], [], []];
    const waiting: string[] = [];
    for (const { row, d } of drafts) {
      const placed = planner.place(row.occurrence, d, row.until);
      if (placed.held) {
        waiting.push(row.id);
        continue;
      }
      const { content, heldReason } = planner.render(d, placed.executorId);
      [row.id, placed.executorId, content, placed.dueAt, placed.dueUntil, heldReason ?? null, row.due_at, row.held_reason,
        joined('room appeared', placed.deferred)].forEach((v, i) => cols[i].push(v));
      done.push(row.id);
    }
    await planner.writeBumps(m);
    const [{ n }] = await m.query(
      `WITH x AS (
         SELECT * FROM unnest($2::bigint[], $3::uuid[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::timestamptz[], $9::text[], $10::text[])
                       AS x(id, ex, co, da, du, held_reason, was_due, was_held, reason)
       ), up AS (
         UPDATE tasks t SET status = CASE WHEN x.held_reason IS NULL THEN 'pending' ELSE 'held' END, held_reason = x.held_reason,
                executor_id = x.ex, content = x.co, due_at = x.da, due_until = x.du
           FROM x WHERE t.id = x.id AND t.tenant_id = $1 AND t.status = 'held'
         RETURNING t.id, t.status
       ), history AS (
         INSERT INTO task_events (tenant_id, task_id, action, detail)
         SELECT $1, up.id, 'released', jsonb_build_object('from', x.was_due, 'to', x.da, 'heldReason', x.was_held, 'reason', x.reason)
           FROM up JOIN x ON x.id = up.id WHERE up.status = 'pending'
         RETURNING 1
       ), gone AS (
         DELETE FROM task_hold_retries WHERE task_id = ANY($11::bigint[]) RETURNING 1
       ), later AS (
         UPDATE task_hold_retries SET retry_at = $12::timestamptz + ${RETRY_EVERY} WHERE task_id = ANY($13::bigint[]) RETURNING 1
       )
       SELECT (SELECT count(*)::int FROM history) AS n, (SELECT count(*) FROM gone) AS _g, (SELECT count(*) FROM later) AS _l`,
      [sop.tenant_id, ...cols, done, now, waiting],
    );
    const renderFailures = (cols[5] as (string | null)[]).filter((r): r is string => !!r);
    await notifyHeld(m, sop.tenant_id, sop.id, sop.version_id, [...new Set(renderFailures)]);
    return { placed: n, stillHeld: waiting.length, more: rows.length === limit };
  });
}
