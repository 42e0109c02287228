import type { Queryable } from '@sop/engine';
import type { Principal } from '../principal';
import { managedUserIds, managesUser, teamManagedBySql } from './managed';
import { lacksPerson, seesWholeOrganization } from './roles';

/**
 * Which tasks a caller may see and change: employees their own; managers their own, their teams' members' and
 * the tasks nobody could be found for; admins and ops every task of their organization. The answers name why a
 * caller may not, and the modules say it in their own words (an employee is told another's task does not exist).
 */

/** `hidden`: not the caller's to know of (answer 404); `outside-team`: a manager's colleague's task (403). */
export type TaskAccess = 'allowed' | 'hidden' | 'outside-team';

/** Whether the caller may see and act on a task of their organization whose executor is `executorId`. */
export async function taskAccess(q: Queryable, caller: Principal, executorId: string | null): Promise<TaskAccess> {
  if (seesWholeOrganization(caller) || (caller.userId !== null && executorId === caller.userId)) return 'allowed';
  if (caller.role !== 'manager') return 'hidden';
  if (executorId === null) return 'allowed'; // nobody was found for it: managers assign it
  return (await managesUser(q, caller, executorId)) ? 'allowed' : 'outside-team';
}

/**
 * Whose tasks the caller may list: `executors` null means every task of the organization; otherwise those
 * executors' tasks, and with `unassigned` also the tasks nobody could be found for (executor NULL).
 */
export interface ExecutorScope {
  executors: string[] | null;
  unassigned: boolean;
}

/**
 * Whose tasks the caller may list, optionally narrowed to one executor (`executorId`, which never takes the
 * unassigned tasks): a manager's team scope holds the unassigned tasks, as they are the manager's to assign
 * (`taskAccess`); an employee's never does. Refused: `needs-a-user` (an employee's or manager's API key),
 * `not-yours` (an employee asking for someone else's), `outside-team` (a manager asking for someone outside their teams).
 */
export async function visibleExecutors(
  q: Queryable, caller: Principal, executorId?: string,
): Promise<ExecutorScope | { refused: 'needs-a-user' | 'not-yours' | 'outside-team' }> {
  if (lacksPerson(caller)) return { refused: 'needs-a-user' };
  if (seesWholeOrganization(caller)) return executorId ? { executors: [executorId], unassigned: false } : { executors: null, unassigned: true };
  if (caller.role === 'employee') {
    return executorId && executorId !== caller.userId ? { refused: 'not-yours' } : { executors: [caller.userId!], unassigned: false };
  }
  const visible = [caller.userId!, ...await managedUserIds(q, caller)];
  if (!executorId) return { executors: visible, unassigned: true };
  return visible.includes(executorId) ? { executors: [executorId], unassigned: false } : { refused: 'outside-team' };
}

/**
 * Whether the caller may hand a task to `userId`: employees to a teammate, managers to a member of a team they
 * manage, admins and ops to anyone. undefined when no active user has that id in the caller's organization.
 */
export async function mayHandTaskTo(q: Queryable, caller: Principal, userId: string): Promise<boolean | undefined> {
  const [target]: { team_id: string | null; caller_team: string | null; managed: boolean }[] = await q.query(
    `SELECT u.team_id, (SELECT team_id FROM users WHERE id = $3) AS caller_team, ${teamManagedBySql('u.team_id', '$3')} AS managed
       FROM users u WHERE u.tenant_id = $1 AND u.id = $2 AND u.disabled_at IS NULL`,
    [caller.tenantId, userId, caller.userId]);
  if (!target) return undefined;
  return seesWholeOrganization(caller)
    || (caller.role === 'manager' && target.managed)
    || (caller.role === 'employee' && target.team_id !== null && target.team_id === target.caller_team);
}
