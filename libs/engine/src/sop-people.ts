/**
 * Who can do the work: the tenant's active users and teams, read once per page, and the one rule that
 * turns a step's executor rule into a person. Journeys, occurrences and the forecast all use it.
 */
import type { Executor } from '@sop/domain';
import type { Queryable } from './queryable';

export interface People {
  users: Map<string, { name: string; email: string }>;
  /** team id -> its active members, by id */
  teams: Map<string, string[]>;
  /** user id -> the other members of their team */
  teamOf: Map<string, string[]>;
}

export async function loadPeople(db: Queryable, tenantId: string): Promise<People> {
  const users: { id: string; name: string; email: string; team_id: string | null }[] = await db.query(
    `SELECT id, name, email, team_id FROM users WHERE tenant_id = $1 AND disabled_at IS NULL ORDER BY id`, [tenantId]);
  const teams = new Map<string, string[]>();
  for (const u of users) if (u.team_id) teams.set(u.team_id, [...(teams.get(u.team_id) ?? []), u.id]);
  return {
    users: new Map(users.map((u) => [u.id, { name: u.name, email: u.email }])),
    teams,
    teamOf: new Map(users.filter((u) => u.team_id).map((u) => [u.id, teams.get(u.team_id!)!.filter((id) => id !== u.id)])),
  };
}

/** A stable number in [0, 1) for an id: deterministic choices (variants, team members) survive retries. */
export function unitHash(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
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
