/**
 * Who can do the work: the tenant's active users and teams, read once per page, and the one rule that
 * turns a step's executor rule into a person. Journeys, occurrences and the forecast all use it.
 */
import type { Executor, SopStep } from '@sop/domain';
import type { Queryable } from './queryable';

export interface People {
  users: Map<string, { name: string; email: string }>;
  /** team id -> its active members, by id */
  teams: Map<string, string[]>;
  /** user id -> the other members of their team */
  teamOf: Map<string, string[]>;
  /** user id -> their leaves not over yet, earliest first */
  leaves: Map<string, Leave[]>;
}

/** A user away from `startsAt` until `endsAt` (exclusive): their tasks go to a substitute or wait for the return. */
export interface Leave {
  id: string;
  userId: string;
  startsAt: Date;
  endsAt: Date;
  policy: 'reassign' | 'defer';
  toUserId: string | null;
  toTeamId: string | null;
}

/** The tenant's active users, teams and the leaves that end after `leavesEndAfter`: two reads, once per page. */
export async function loadPeople(db: Queryable, tenantId: string, leavesEndAfter = new Date()): Promise<People> {
  // One after the other: callers pass a transaction's single connection.
  const users: { id: string; name: string; email: string; team_id: string | null }[] = await db.query(
    `SELECT id, name, email, team_id FROM users WHERE tenant_id = $1 AND disabled_at IS NULL ORDER BY id`, [tenantId]);
  const leaves: Leave[] = await db.query(
    `SELECT id, user_id AS "userId", starts_at AS "startsAt", ends_at AS "endsAt", policy, to_user_id AS "toUserId", to_team_id AS "toTeamId"
       FROM leaves WHERE tenant_id = $1 AND ends_at > $2 ORDER BY starts_at`, [tenantId, leavesEndAfter]);
  const teams = new Map<string, string[]>();
  for (const u of users) if (u.team_id) teams.set(u.team_id, [...(teams.get(u.team_id) ?? []), u.id]);
  const byUser = new Map<string, Leave[]>();
  for (const l of leaves) byUser.set(l.userId, [...(byUser.get(l.userId) ?? []), l]);
  return {
    users: new Map(users.map((u) => [u.id, { name: u.name, email: u.email }])),
    teams,
    teamOf: new Map(users.filter((u) => u.team_id).map((u) => [u.id, teams.get(u.team_id!)!.filter((id) => id !== u.id)])),
    leaves: byUser,
  };
}

/** The leave `userId` is on at `at`, if any. */
export function leaveAt(people: Pick<People, 'leaves'>, userId: string, at: Date): Leave | undefined {
  const t = at.getTime();
  return people.leaves.get(userId)?.find((l) => l.startsAt.getTime() <= t && t < l.endsAt.getTime());
}

export type LeaveCover = { executorId: string | null } | { deferUntil: Date };

/**
 * Who takes a task due at `dueAt` whose executor is on leave then: the leave's substitute (a named user,
 * or a team member not on leave chosen by a stable hash of `key`, the contact or group, so one contact's
 * tasks go to one person), nobody (a manager assigns it) when no substitute is available, or, for
 * `defer`, the same executor at the return.
 */
export function coverLeave(executorId: string | null, dueAt: Date, key: string, people: People): LeaveCover {
  const leave = executorId ? leaveAt(people, executorId, dueAt) : undefined;
  if (!leave) return { executorId };
  if (leave.policy === 'defer') return { deferUntil: leave.endsAt };
  const present = (id: string) => people.users.has(id) && id !== leave.userId && !leaveAt(people, id, dueAt);
  if (leave.toUserId) return { executorId: present(leave.toUserId) ? leave.toUserId : null };
  const team = (people.teams.get(leave.toTeamId ?? '') ?? []).filter(present);
  return { executorId: team.length ? team[Math.floor(unitHash(`leave:${key}`) * team.length)] : null };
}

/** A stable number in [0, 1) for an id: deterministic choices (variants, team members) survive retries. */
export function unitHash(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) / 2 ** 32;
}

/**
 * The step's variant for `key` (journeys: the enrollment; recurring SOPs and broadcasts: the SOP and the target,
 * so a contact or group sees the same variant at every occurrence), chosen by weight; no variants: the template.
 * The hash is mixed (MurmurHash3's finalizer over FNV-1a): FNV-1a alone gives runs of sequential ids the same
 * variant, which skews an A/B split of enrollments made together.
 */
export function pickVariant(step: SopStep, key: string): { name: string | null; template: string } {
  const variants = step.content.variants;
  if (!variants?.length) return { name: null, template: step.content.template };
  let pick = mixedUnitHash(`variant:${key}`) * variants.reduce((s, v) => s + v.weight, 0);
  for (const v of variants) if ((pick -= v.weight) < 0) return { name: v.name, template: v.template };
  const last = variants[variants.length - 1];
  return { name: last.name, template: last.template };
}

function mixedUnitHash(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

/**
 * The person an executor rule names: the owner (of the contact or the group), a named user, or a team
 * member chosen by a stable hash of `key`; null when that person is not an active user (a manager assigns it).
 */
export function resolveExecutor(rule: Executor, ownerId: string | null, key: string, people: People): string | null {
  if (rule.rule === 'contactOwner' || rule.rule === 'groupOwner') return ownerId && people.users.has(ownerId) ? ownerId : null;
  if (rule.rule === 'user') return people.users.has(rule.userId) ? rule.userId : null;
  const team = people.teams.get(rule.teamId) ?? [];
  return team.length ? team[Math.floor(unitHash(key) * team.length)] : null;
}

/**
 * A round-robin step's team members not on leave at `at`: the limits give the task to the least loaded of
 * them that day (executor-load.ts). null for other rules, or when the whole team is away (then the rule and
 * the leaves' cover decide, as for any executor).
 */
export function roundRobinPool(rule: Executor, at: Date, people: People): string[] | null {
  if (rule.rule !== 'roundRobin') return null;
  const present = (people.teams.get(rule.teamId) ?? []).filter((id) => !leaveAt(people, id, at));
  return present.length ? present : null;
}

/** Contact columns a template can use, selected as they are (no per-row JSON), and their template scope. */
export const CONTACT_SCOPE_COLUMNS = 'c.name, c.external_id, c.phone, c.email, c.timezone, c.attributes, c.order_count, c.total_spend, c.last_order_at';

export interface ContactScopeRow {
  name: string;
  external_id: string;
  phone: string | null;
  email: string | null;
  timezone: string;
  attributes: Record<string, unknown>;
  order_count: number;
  total_spend: string;
  last_order_at: Date | null;
}

export const contactScope = (r: ContactScopeRow): Record<string, unknown> => ({
  name: r.name, externalId: r.external_id, phone: r.phone, email: r.email, timezone: r.timezone,
  attributes: r.attributes, orderCount: r.order_count, totalSpend: Number(r.total_spend), lastOrderAt: r.last_order_at,
});
