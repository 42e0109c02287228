import { managedTeamIdsArraySql, managedUsersSql, type Queryable, teamManagedBySql, teamManagedWhere } from '@sop/engine';
import type { Principal } from '../principal';

/**
 * Whom a manager acts for: the teams whose `manager_id` they are, and the members of those teams, in their own
 * organization. Every API module asks here (the inbox, task actions, handovers and leaves, the dashboards). The
 * rule's SQL lives in libs/engine (managed-teams.ts), where the overdue escalation and the manager's digest join
 * the same relation; it is re-exported here for the API's one-statement queries.
 */
export { managedTeamIdsArraySql, managedUsersSql, teamManagedBySql, teamManagedWhere };

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
