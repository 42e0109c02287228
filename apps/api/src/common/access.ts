import type { Queryable } from '@sop/engine';
import type { Principal } from './principal';

/**
 * Who a manager acts for, answered in one place for the inbox, task actions and handovers: the members of the
 * teams they manage, in their own organization. (The dashboards inline the same rule over teams in their
 * one-statement queries.)
 */

/** SQL: the ids of the users in the teams `manager` manages, in organization `tenant` (both SQL expressions). */
export const managedUsersSql = (tenant: string, manager: string) =>
  `SELECT u.id FROM users u JOIN teams tm ON tm.tenant_id = u.tenant_id AND tm.id = u.team_id WHERE u.tenant_id = ${tenant} AND tm.manager_id = ${manager}`;

/** SQL boolean: whether the team in column `teamColumn` is managed by `manager`. */
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
