/**
 * Occurrence work: a recurring SOP's firing or a broadcast creates one task per audience member (a
 * contact or a customer group) for each step, in keyset pages. Tasks are keyed by (SOP, occurrence,
 * step, target), so a page that runs twice, or a firing repeated after a worker restart, adds nothing.
 */
import { type BusinessCalendar, compileTaskTemplate, isOccurrence, occurrenceDueAt, type SopDefinition, type TemplateScope, type Window } from '@sop/domain';
import { DateTime } from 'luxon';
import { loadCalendar, type Transactional } from './sop-dispatch';
import { notifyHeld } from './held-tasks';
import { type Candidate, PageLimits, type Refusal } from './sop-limits';
import { CONTACT_SCOPE_COLUMNS, contactScope, type ContactScopeRow, coverLeave, loadPeople, pickVariant, resolveExecutor, roundRobinPool } from './sop-people';
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
    const [sop]: OccurrenceSop[] = await m.query(
      `SELECT s.id, s.tenant_id, s.name, s.status, v.id AS version_id, v.definition,
              (SELECT min(published_at) FROM sop_versions WHERE sop_id = s.id) AS first_published_at
         FROM sops s JOIN sop_versions v ON v.sop_id = s.id AND v.version = s.current_version
        WHERE s.id = $1 FOR SHARE OF s`,
      [input.sopId],
    );
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

/** The next page of the audience by id: customer groups, or contacts (a broadcast reads its snapshot). */
async function audiencePage(m: Queryable, sop: OccurrenceSop, after: string | null, limit: number): Promise<Target[]> {
  const a = sop.definition.audience;
  if ('groups' in a) {
    return m.query(
      `SELECT g.id, g.owner_id, g.name, NULL AS contact FROM customer_groups g LEFT JOIN users u ON u.id = g.owner_id
        WHERE g.tenant_id = $1 AND ($2::uuid IS NULL OR g.id > $2)
          AND (($3::uuid[] IS NULL AND $4::uuid[] IS NULL) OR g.owner_id = ANY($3) OR u.team_id = ANY($4))
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

/**
 * The page's tasks: rendered, assigned, timed and held to the limits as journeys are. Each task is due at the
 * occurrence in its contact's zone (a group's: the SOP's), moved off non-working days and out of quiet hours
 * (occurrenceDueAt). A task that a contact's cap or an executor's capacity cannot take moves to the next
 * allowed day, at the same time of day, up to a week on; with no room in that week it is held, with the
 * reason, never written over a limit. Every move gets a 'deferred' history row saying why. The occurrence
 * stays the task's key, so a repeat still adds nothing.
 */
async function insertTasks(m: Queryable, sop: OccurrenceSop, occurrence: Date, targets: Target[]): Promise<number> {
  const people = await loadPeople(m, sop.tenant_id, occurrence);
  const forGroups = 'groups' in sop.definition.audience;
  const def = sop.definition;
  const zoneOf = (t: Target) => (forGroups ? def.timezone : String(t.contact?.timezone ?? def.timezone));
  const timing = new Timing(await loadCalendar(m, sop.tenant_id), def.policies.businessDaysOnly, def.policies.quietHours);
  // An executor on leave when the task is due: the leave's substitute, or the same executor at the return.
  const drafts = def.steps.flatMap((step, index) => targets.map((t) => {
    const zone = zoneOf(t);
    const first = timing.at(occurrence, zone);
    const pool = roundRobinPool(step.executor, first.dueAt, people) ?? undefined;
    const executorId = resolveExecutor(step.executor, t.owner_id, t.id, people);
    if (pool) return { step, index, t, zone, executorId, dueAt: first.dueAt, why: first.why, pool };
    const cover = coverLeave(executorId, first.dueAt, t.id, people);
    if (!('deferUntil' in cover)) return { step, index, t, zone, executorId: cover.executorId, dueAt: first.dueAt, why: first.why };
    const back = timing.at(cover.deferUntil, zone);
    return { step, index, t, zone, executorId, dueAt: back.dueAt, why: ['executor on leave', back.why].filter(Boolean).join(', ') };
  }));
  const limits = await PageLimits.load(m, sop.tenant_id,
    drafts.map((d) => ({ contactId: forGroups ? null : d.t.id, zone: d.zone, executorId: d.executorId, dueAt: d.dueAt, pool: d.pool })),
    { priority: def.policies.priority, capacity: def.policies.executorDailyCapacity, overflow: def.policies.overflow, zone: def.timezone,
      teamOf: people.teamOf, lookAheadDays: HORIZON_DAYS + 7 });
  const cols: unknown[][] = [[], [], [], [], [], [], [], [], [], [], [], []];
  // Variants as journeys pick them (sop-people.ts pickVariant), one compiled template per step and variant.
  const renderers = new Map<string, ReturnType<typeof compileTaskTemplate>>();
  const render = (index: number, variant: string | null, template: string, scope: TemplateScope) => {
    const key = `${index}:${variant ?? ''}`;
    let r = renderers.get(key);
    if (!r) renderers.set(key, (r = compileTaskTemplate(template)));
    return r(scope);
  };
  const materials = def.steps.map((step) => JSON.stringify(step.content.materials));
  for (const { step, index, t, zone, executorId, dueAt, why, pool } of drafts) {
    const placed = place(limits, timing, { contactId: forGroups ? null : t.id, zone, executorId, dueAt, pool });
    const owner = t.owner_id ? people.users.get(t.owner_id) ?? null : null;
    const scope: TemplateScope = {
      sop: { name: sop.name }, step: { name: step.name }, owner, executor: placed.executorId ? people.users.get(placed.executorId) ?? null : null,
      ...(forGroups ? { group: { name: t.name } } : { contact: t.contact ?? undefined }),
    };
    const dueUntil = new Date(placed.dueAt.getTime() + (step.dueWithinMinutes ?? DEFAULT_DUE_MINUTES) * 60_000);
    const variant = pickVariant(step, `${sop.id}:${t.id}`);
    const { content, heldReason } = render(index, variant.name, variant.template, scope);
    const deferred = [why, placed.deferredBy].filter(Boolean).join(', ') || null;
    [index, forGroups ? null : t.id, forGroups ? t.id : null, placed.executorId, step.channel, content,
      variant.name, materials[index], placed.dueAt, dueUntil, heldReason ?? placed.held ?? null, placed.held ? null : deferred].forEach((v, i) => cols[i].push(v));
  }
  await limits.writeBumps(m);
  // One statement: the tasks, and for each one that moved (and was new), its 'deferred' history row.
  const [{ n }] = await m.query(
    `WITH x AS (
       SELECT * FROM unnest($5::int[], $6::uuid[], $7::uuid[], $8::uuid[], $9::text[], $10::text[], $11::text[], $12::jsonb[],
                            $13::timestamptz[], $14::timestamptz[], $15::text[], $16::text[])
                     AS x(s, c, g, ex, ch, co, va, ma, da, du, held_reason, defer_reason)
     ), ins AS (
       INSERT INTO tasks (tenant_id, sop_id, sop_version_id, occurrence, step_index, contact_id, group_id, executor_id, channel,
                          content, variant, materials, due_at, due_until, held_reason, status)
       SELECT $1, $2, $3, $4, s, c, g, ex, ch, co, va, ma, da, du, held_reason, CASE WHEN held_reason IS NULL THEN 'pending' ELSE 'held' END FROM x
       ON CONFLICT DO NOTHING RETURNING id, step_index, contact_id, group_id, due_at
     ), history AS (
       INSERT INTO task_events (tenant_id, task_id, action, detail)
       SELECT $1, ins.id, 'deferred', jsonb_build_object('from', $4::timestamptz, 'to', ins.due_at, 'reason', x.defer_reason)
         FROM ins JOIN x ON x.s = ins.step_index AND coalesce(x.c, x.g) = coalesce(ins.contact_id, ins.group_id)
        WHERE x.defer_reason IS NOT NULL
       RETURNING 1
     )
     SELECT (SELECT count(*)::int FROM ins) AS n, (SELECT count(*) FROM history) AS _`,
    [sop.tenant_id, sop.id, sop.version_id, occurrence, ...cols],
  );
  // A task whose content could not be rendered is held, with the reason; ops are told (held-tasks.ts).
  const renderFailures = (cols[10] as (string | null)[]).filter((r): r is string => !!r && !r.startsWith(NO_ROOM));
  await notifyHeld(m, sop.tenant_id, sop.id, sop.version_id, [...new Set(renderFailures)]);
  return n;
}

/** How far a task may move for the limits: a week, so a daily rule's next firing is the latest it can meet. */
const HORIZON_DAYS = 7;
const DAY_MS = 86_400_000;
const NO_ROOM = 'no room within';

/** occurrenceDueAt for one SOP's day policy, remembered per (zone, instant): a page's contacts share a few zones. */
class Timing {
  private readonly seen = new Map<string, { dueAt: Date; why: string | null }>();
  constructor(private readonly calendar: BusinessCalendar, private readonly businessDaysOnly: boolean, private readonly quietHours?: Window) {}

  at(instant: Date, zone: string): { dueAt: Date; why: string | null } {
    const key = `${zone}|${instant.getTime()}`;
    let due = this.seen.get(key);
    if (!due) {
      due = occurrenceDueAt(instant, { zone, calendar: this.calendar, businessDaysOnly: this.businessDaysOnly, quietHours: this.quietHours });
      this.seen.set(key, due);
    }
    return due;
  }
}

/**
 * The first allowed time, from the candidate's, at which the limits admit the task: the same wall-clock time on
 * each following day, moved as the day policy says, up to HORIZON_DAYS on. None: the task is held, with the reason.
 */
function place(limits: PageLimits, timing: Timing, c: Candidate): { executorId: string | null; dueAt: Date; deferredBy?: string; held?: string } {
  const start = DateTime.fromJSDate(c.dueAt, { zone: c.zone });
  let refusal: Refusal | undefined;
  let tried = -1;
  for (let days = 0; days <= HORIZON_DAYS; days++) {
    const dueAt = days ? timing.at(start.plus({ days }).toJSDate(), c.zone).dueAt : c.dueAt;
    if (dueAt.getTime() === tried) continue; // a skipped day lands on the next one already tried
    if (dueAt.getTime() - c.dueAt.getTime() > HORIZON_DAYS * DAY_MS) break;
    tried = dueAt.getTime();
    const admission = limits.admit({ ...c, dueAt });
    if (admission.admitted) return { executorId: admission.executorId, dueAt, deferredBy: refusal };
    refusal = admission.reason;
  }
  return { executorId: c.executorId, dueAt: c.dueAt, held: `${NO_ROOM} ${HORIZON_DAYS} days: ${refusal}` };
}
