import type { Queryable } from '@sop/engine';
import { COMMON_ERRORS, failAt } from '../../common/errors.catalog';
import { mayActFor } from '../../common/access/roles';
import type { Principal } from '../../common/principal';
import type { HandoverDto } from './handovers.dto';
import { HANDOVERS_ERRORS } from './handovers.errors';
import type { HandoverRow, HandoversRepository } from './handovers.repository';

/** Rules shared by handovers and leaves: who may act for whom, and who can receive work (their SQL: handovers.repository.ts). */

export type { HandoverRow };

export const toHandoverDto = (r: HandoverRow): HandoverDto => ({
  id: r.id, kind: r.kind, leaveId: r.leave_id, fromUserId: r.from_user_id, toUserId: r.to_user_id, toTeamId: r.to_team_id,
  scope: r.scope, reason: r.reason, actorId: r.actor_id, apiKeyId: r.api_key_id,
  moved: { contacts: r.contacts_moved, groups: r.groups_moved, tasks: r.tasks_moved, tasksDeferred: r.tasks_deferred },
  createdAt: r.created_at,
});

/**
 * The user whose work moves, locked so two handovers of one person run one after the other. Unknown (or
 * another tenant's) answers 422 naming the field; a manager may act only for members of teams they manage.
 */
export async function lockSubject(
  repo: HandoversRepository, m: Queryable, caller: Principal, userId: string, path: string,
): Promise<{ id: string; disabled: boolean }> {
  const user = await repo.lockUser(m, caller.tenantId, userId, caller.userId);
  if (!user) throw failAt(COMMON_ERRORS.USER_NOT_FOUND, path, 'no user with that id in your organization', 422);
  assertManages(caller, user.managed === true, path);
  return user;
}

function assertManages(caller: Principal, managed: boolean, path: string): void {
  if (!mayActFor(caller, managed)) throw failAt(HANDOVERS_ERRORS.OUTSIDE_YOUR_TEAM, path, 'managers act only for members of the teams they manage');
}

/**
 * The people who receive the work, sorted by id (the order decides the hash buckets, so it must not
 * change between a request and its retry): one active user, or the active members of a team other than
 * the one handing over. 422 naming the field for an unknown, disabled or identical target; 403 for a
 * manager's target outside their teams.
 */
export async function recipients(
  repo: HandoversRepository, m: Queryable, caller: Principal, fromUserId: string, to: { toUserId?: string | null; toTeamId?: string | null },
): Promise<string[]> {
  if (Boolean(to.toUserId) === Boolean(to.toTeamId)) {
    throw failAt(COMMON_ERRORS.VALIDATION_FAILED, 'toUserId', 'give either toUserId or toTeamId', 400);
  }
  if (to.toUserId) {
    if (to.toUserId === fromUserId) throw failAt(HANDOVERS_ERRORS.SAME_USER, 'toUserId', 'is the user handing over; choose someone else');
    const user = await repo.recipientUser(m, caller.tenantId, to.toUserId, caller.userId);
    if (!user) throw failAt(COMMON_ERRORS.USER_NOT_FOUND, 'toUserId', 'no user with that id in your organization', 422);
    if (user.disabled) throw failAt(HANDOVERS_ERRORS.TARGET_DISABLED, 'toUserId', 'this user is disabled and cannot take work');
    assertManages(caller, user.managed === true, 'toUserId');
    return [to.toUserId];
  }
  const team = await repo.recipientTeam(m, caller.tenantId, to.toTeamId!, caller.userId, fromUserId);
  if (!team) throw failAt(COMMON_ERRORS.TEAM_NOT_FOUND, 'toTeamId', 'no team with that id in your organization', 422);
  assertManages(caller, team.managed === true, 'toTeamId');
  if (!team.members.length) throw failAt(HANDOVERS_ERRORS.TEAM_HAS_NO_ACTIVE_MEMBERS, 'toTeamId', 'this team has no active member who could take the work');
  return team.members;
}
