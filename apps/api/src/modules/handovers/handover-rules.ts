import type { Queryable } from '@sop/engine';
import { COMMON_ERRORS, failAt } from '../../common/errors.catalog';
import { teamManagedBySql, teamManagedWhere } from '../../common/access/managed';
import { mayActFor } from '../../common/access/roles';
import type { Principal } from '../../common/principal';
import type { HandoverDto } from './handovers.dto';
import { HANDOVERS_ERRORS } from './handovers.errors';

/** Reads and rules shared by handovers and leaves: who may act for whom, and who can receive work. */

export interface HandoverRow {
  id: string; idempotency_key: string | null; kind: string; leave_id: string | null; from_user_id: string; to_user_id: string | null; to_team_id: string | null;
  scope: string[]; reason: string; actor_id: string | null; api_key_id: string | null; contacts_moved: number; groups_moved: number;
  tasks_moved: number; tasks_deferred: number; created_at: Date;
}

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
export async function lockSubject(m: Queryable, caller: Principal, userId: string, path: string): Promise<{ id: string; disabled: boolean }> {
  const [user] = await m.query(
    `SELECT u.id, u.disabled_at IS NOT NULL AS disabled, ${teamManagedBySql('u.team_id', '$3')} AS managed
       FROM users u WHERE u.tenant_id = $1 AND u.id = $2 FOR UPDATE OF u`,
    [caller.tenantId, userId, caller.userId]);
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
  m: Queryable, caller: Principal, fromUserId: string, to: { toUserId?: string | null; toTeamId?: string | null },
): Promise<string[]> {
  if (Boolean(to.toUserId) === Boolean(to.toTeamId)) {
    throw failAt(COMMON_ERRORS.VALIDATION_FAILED, 'toUserId', 'give either toUserId or toTeamId', 400);
  }
  if (to.toUserId) {
    if (to.toUserId === fromUserId) throw failAt(HANDOVERS_ERRORS.SAME_USER, 'toUserId', 'is the user handing over; choose someone else');
    const [user] = await m.query(
      `SELECT disabled_at IS NOT NULL AS disabled, ${teamManagedBySql('users.team_id', '$3')} AS managed
         FROM users WHERE tenant_id = $1 AND id = $2`, [caller.tenantId, to.toUserId, caller.userId]);
    if (!user) throw failAt(COMMON_ERRORS.USER_NOT_FOUND, 'toUserId', 'no user with that id in your organization', 422);
    if (user.disabled) throw failAt(HANDOVERS_ERRORS.TARGET_DISABLED, 'toUserId', 'this user is disabled and cannot take work');
    assertManages(caller, user.managed === true, 'toUserId');
    return [to.toUserId];
  }
  const [team] = await m.query(
    `SELECT ${teamManagedWhere('t', '$1', '$3')} AS managed,
            ARRAY(SELECT u.id FROM users u WHERE u.tenant_id = $1 AND u.team_id = t.id AND u.disabled_at IS NULL AND u.id <> $4 ORDER BY u.id) AS members
       FROM teams t WHERE t.tenant_id = $1 AND t.id = $2`,
    [caller.tenantId, to.toTeamId, caller.userId, fromUserId]);
  if (!team) throw failAt(COMMON_ERRORS.TEAM_NOT_FOUND, 'toTeamId', 'no team with that id in your organization', 422);
  assertManages(caller, team.managed === true, 'toTeamId');
  if (!team.members.length) throw failAt(HANDOVERS_ERRORS.TEAM_HAS_NO_ACTIVE_MEMBERS, 'toTeamId', 'this team has no active member who could take the work');
  return team.members;
}

/** Writes the audit row; null when that id (or idempotency key) is already taken, by this request's first run or a race. */
export async function insertHandover(
  m: Queryable, caller: Principal,
  h: { id: string; key: string | null; kind: 'handover' | 'leave'; leaveId: string | null; fromUserId: string; toUserId: string | null; toTeamId: string | null; scope: string[]; reason: string },
): Promise<boolean> {
  const rows = await m.query(
    `INSERT INTO handovers (id, tenant_id, idempotency_key, kind, leave_id, actor_id, api_key_id, from_user_id, to_user_id, to_team_id, scope, reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING RETURNING id`,
    [h.id, caller.tenantId, h.key, h.kind, h.leaveId, caller.userId, caller.apiKeyId, h.fromUserId, h.toUserId, h.toTeamId, h.scope, h.reason]);
  return rows.length > 0;
}

export async function recordCounts(
  m: Queryable, tenantId: string, id: string, moved: { contacts?: number; groups?: number; tasks?: number; tasksDeferred?: number },
): Promise<HandoverRow> {
  const [[row]] = await m.query(
    `UPDATE handovers SET contacts_moved = $3, groups_moved = $4, tasks_moved = $5, tasks_deferred = $6
      WHERE tenant_id = $1 AND id = $2 RETURNING *`,
    [tenantId, id, moved.contacts ?? 0, moved.groups ?? 0, moved.tasks ?? 0, moved.tasksDeferred ?? 0]);
  return row;
}
