/**
 * Occurrence work: a recurring SOP's firing or a broadcast creates one task per audience member (a
 * contact or a customer group) for each step, in keyset pages. Tasks are keyed by (SOP, occurrence,
 * step, target), so a page that runs twice, or a firing repeated after a worker restart, adds nothing.
 */
import { compileTaskTemplate, isOccurrence, type SopDefinition, type TemplateScope } from '@sop/domain';
import { DateTime } from 'luxon';
import { loadCalendar, type Transactional } from './sop-dispatch';
import { notifyHeld } from './held-tasks';
import { type Candidate, PageLimits } from './sop-limits';
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
 * The page's tasks: rendered, assigned, and held to the limits. A task an executor's capacity or a
 * contact's cap cannot take on the occurrence's day moves to the first later day with room (at most a
 * week; beyond that it stays on its day). The occurrence stays its key, so a repeat still adds nothing.
 */
async function insertTasks(m: Queryable, sop: OccurrenceSop, occurrence: Date, targets: Target[]): Promise<number> {
  const people = await loadPeople(m, sop.tenant_id, occurrence);
  const forGroups = 'groups' in sop.definition.audience;
  const def = sop.definition;
  const zoneOf = (t: Target) => (forGroups ? def.timezone : String(t.contact?.timezone ?? def.timezone));
  // An executor on leave at the occurrence: the leave's substitute, or the same executor at the return.
  const drafts = def.steps.flatMap((step, index) => targets.map((t) => {
    const pool = roundRobinPool(step.executor, occurrence, people) ?? undefined;
    const executorId = resolveExecutor(step.executor, t.owner_id, t.id, people); // round robin: kept when no day in a week has room
    if (pool) return { step, index, t, executorId, dueAt: occurrence, pool };
    const cover = coverLeave(executorId, occurrence, t.id, people);
    return 'deferUntil' in cover ? { step, index, t, executorId, dueAt: cover.deferUntil } : { step, index, t, executorId: cover.executorId, dueAt: occurrence };
  }));
  const limits = await PageLimits.load(m, sop.tenant_id,
    drafts.map((d) => ({ contactId: forGroups ? null : d.t.id, zone: zoneOf(d.t), executorId: d.executorId, dueAt: d.dueAt, pool: d.pool })),
    { priority: def.policies.priority, capacity: def.policies.executorDailyCapacity, overflow: def.policies.overflow, zone: def.timezone, teamOf: people.teamOf });
  const cols: unknown[][] = [[], [], [], [], [], [], [], [], [], [], []];
  // Variants as journeys pick them (sop-people.ts pickVariant), one compiled template per step and variant.
  const renderers = new Map<string, ReturnType<typeof compileTaskTemplate>>();
  const render = (index: number, variant: string | null, template: string, scope: TemplateScope) => {
    const key = `${index}:${variant ?? ''}`;
    let r = renderers.get(key);
    if (!r) renderers.set(key, (r = compileTaskTemplate(template)));
    return r(scope);
  };
  const materials = def.steps.map((step) => JSON.stringify(step.content.materials));
  for (const { step, index, t, executorId, dueAt, pool } of drafts) {
    const placed = place(limits, { contactId: forGroups ? null : t.id, zone: zoneOf(t), executorId, dueAt, pool });
    const owner = t.owner_id ? people.users.get(t.owner_id) ?? null : null;
    const scope: TemplateScope = {
      sop: { name: sop.name }, step: { name: step.name }, owner, executor: placed.executorId ? people.users.get(placed.executorId) ?? null : null,
      ...(forGroups ? { group: { name: t.name } } : { contact: t.contact ?? undefined }),
    };
    const dueUntil = new Date(placed.dueAt.getTime() + (step.dueWithinMinutes ?? DEFAULT_DUE_MINUTES) * 60_000);
    const variant = pickVariant(step, `${sop.id}:${t.id}`);
    const { content, heldReason } = render(index, variant.name, variant.template, scope);
    [index, forGroups ? null : t.id, forGroups ? t.id : null, placed.executorId, step.channel, content,
      variant.name, materials[index], placed.dueAt, dueUntil, heldReason].forEach((v, i) => cols[i].push(v));
  }
  await limits.writeBumps(m);
  const rows = await m.query(
    `INSERT INTO tasks (tenant_id, sop_id, sop_version_id, occurrence, step_index, contact_id, group_id, executor_id, channel,
                        content, variant, materials, due_at, due_until, held_reason, status)
     SELECT $1, $2, $3, $4, x.*, CASE WHEN x.held_reason IS NULL THEN 'pending' ELSE 'held' END
       FROM unnest($5::int[], $6::uuid[], $7::uuid[], $8::uuid[], $9::text[], $10::text[], $11::text[], $12::jsonb[],
                   $13::timestamptz[], $14::timestamptz[], $15::text[]) AS x(s, c, g, ex, ch, co, va, ma, da, du, held_reason)
     ON CONFLICT DO NOTHING RETURNING 1`,
    [sop.tenant_id, sop.id, sop.version_id, occurrence, ...cols],
  );
  // A task whose content could not be rendered is held, with the reason; ops are told (held-tasks.ts).
  await notifyHeld(m, sop.tenant_id, sop.id, sop.version_id, [...new Set(cols[10].filter((r): r is string => !!r))]);
  return rows.length;
}

const MAX_SHIFT_DAYS = 7;

/** The first day, from the occurrence's, on which the limits admit the task; the occurrence's day when none within a week does. */
function place(limits: PageLimits, c: Candidate): { executorId: string | null; dueAt: Date } {
  for (let days = 0; days <= MAX_SHIFT_DAYS; days++) {
    const dueAt = new Date(c.dueAt.getTime() + days * 86_400_000);
    const admission = limits.admit({ ...c, dueAt });
    if (admission.admitted) return { executorId: admission.executorId, dueAt };
  }
  return { executorId: c.executorId, dueAt: c.dueAt };
}

