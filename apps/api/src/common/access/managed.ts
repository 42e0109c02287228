import type { Queryable } from '@sop/engine';
import type { Principal } from '../principal';

/**
 * Whom a manager acts for: the teams whose `manager_id` they are, and the members of those teams, in their own
 * organization. Every API module asks here (the inbox, task actions, handovers and leaves, the dashboards); the
 * engine's overdue escalation (libs/engine reminders.ts) follows the same relation in its set-based statement.
 * The SQL helpers take SQL expressions (usually parameter references such as `$1`), so a caller can put the rule
 * inside its own one-statement query.
 */

/** SQL condition: the team row `alias` is one that `manager` manages in organization `tenant`. */
export const teamManagedWhere = (alias: string, tenant: string, manager: string) =>
  `(${alias}.tenant_id = ${tenant} AND ${alias}.manager_id = ${manager})`;

/** SQL: a text[] of the ids of the teams `manager` manages in organization `tenant`, ordered by team name. */
export const managedTeamIdsArraySql = (tenant: string, manager: string) =>
  `ARRAY(SELECT tm.id::text FROM teams tm WHERE ${teamManagedWhere('tm', tenant, manager)} ORDER BY tm.name, tm.id)`;

/** SQL: the ids of the users in the teams `manager` manages, in organization `tenant`. */
export const managedUsersSql = (tenant: string, manager: string) =>
  `SELECT u.id FROM users u JOIN teams tm ON tm.tenant_id = u.tenant_id AND tm.id = u.team_id WHERE u.tenant_id = ${tenant} AND tm.manager_id = ${manager}`;

/**
 * SQL boolean: whether the team in column `teamColumn` is managed by `manager`. No tenant condition is needed:
 * the composite foreign keys keep a user's team in the user's organization.
 */
export const teamManagedBySql = (teamColumn: string, manager: string) =>
  `EXISTS (SELECT 1 FROM teams tm WHERE tm.id = ${teamColumn} AND tm.manager_id = ${manager})`;

/** The users the calling manager acts for (not the manager, unless they are in a team they manage). */
export async function managedUserIds(q: Queryable, caller: Principal): Promise<string[]> {
  if (!caller.userId) return [];
  const rows: { id: string }[] = await q.query(managedUsersSql('$1', '$2'), [caller.tenantId, caller.userId]);
  return rows.map((r) => r.id);
}

/** Whether the calling manager acts for `userId`. */
export async function managesUser(q: Queryable, caller: Principal, userId: string): Promise<boolean> {
  if (!caller.userId) return false;
  const [row] = await q.query(`SELECT 1 FROM (${managedUsersSql('$1', '$2')}) managed WHERE managed.id = $3`, [caller.tenantId, caller.userId, userId]);
  return Boolean(row);
}
