import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queryable } from '@sop/engine';
import { DataSource } from 'typeorm';
import { managedUsersSql, teamManagedBySql, teamManagedWhere } from '../../common/access/managed';

/** A `handovers` row: the audit record of a handover or of a leave's reassignment. */
export interface HandoverRow {
  id: string; idempotency_key: string | null; kind: string; leave_id: string | null; from_user_id: string; to_user_id: string | null; to_team_id: string | null;
  scope: string[]; reason: string; actor_id: string | null; api_key_id: string | null; contacts_moved: number; groups_moved: number;
  tasks_moved: number; tasks_deferred: number; segments_pending: boolean; created_at: Date;
}

/** A `leaves` row with its audit record (`handover`, as row_to_json gives it: times as text). */
export interface LeaveRow {
  id: string; user_id: string; starts_at: Date; ends_at: Date; policy: string; to_user_id: string | null; to_team_id: string | null;
  reason: string; created_at: Date; handover: HandoverRow | null;
}

export interface NewHandover {
  id: string; key: string | null; kind: 'handover' | 'leave'; leaveId: string | null; fromUserId: string; toUserId: string | null;
  toTeamId: string | null; scope: string[]; reason: string;
}

export interface NewLeave {
  id: string; userId: string; from: Date; until: Date; policy: string; toUserId: string | null; toTeamId: string | null; reason: string;
  createdBy: string | null;
}

export interface MovedCounts { contacts?: number; groups?: number; tasks?: number; tasksDeferred?: number }

/** Who acts: the caller's organization, user and API key. */
interface Actor { tenantId: string; userId: string | null; apiKeyId: string | null }

const SELECT_LEAVE = `SELECT l.*, (SELECT row_to_json(h) FROM handovers h WHERE h.tenant_id = l.tenant_id AND h.leave_id = l.id) AS handover FROM leaves l`;

/**
 * The handover aggregate: `handovers` (the audit rows), `leaves`, and what handovers and leaves read of the users and
 * teams who give and receive work: the API's one home for that SQL (the moves themselves are the engine's set-based
 * statements, libs/engine handover.ts). Every statement is keyed by the caller's organization; those that run in the
 * caller's transaction take its manager.
 */
@Injectable()
export class HandoversRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The user, locked FOR UPDATE (work of one person moves one move at a time), with whether `callerId` manages their team. */
  async lockUser(m: Queryable, tenantId: string, userId: string, callerId: string | null): Promise<{ id: string; disabled: boolean; managed: boolean | null } | undefined> {
    const [user] = await m.query(
      `SELECT u.id, u.disabled_at IS NOT NULL AS disabled, ${teamManagedBySql('u.team_id', '$3')} AS managed
         FROM users u WHERE u.tenant_id = $1 AND u.id = $2 FOR UPDATE OF u`,
      [tenantId, userId, callerId]);
    return user;
  }

  /** Whether the organization has the user. */
  async userExists(m: Queryable, tenantId: string, userId: string): Promise<boolean> {
    const [row] = await m.query(`SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2`, [tenantId, userId]);
    return Boolean(row);
  }

  /** A user who would receive work: whether disabled, and whether `callerId` manages their team. */
  async recipientUser(m: Queryable, tenantId: string, userId: string, callerId: string | null): Promise<{ disabled: boolean; managed: boolean | null } | undefined> {
    const [user] = await m.query(
      `SELECT disabled_at IS NOT NULL AS disabled, ${teamManagedBySql('users.team_id', '$3')} AS managed
         FROM users WHERE tenant_id = $1 AND id = $2`, [tenantId, userId, callerId]);
    return user;
  }

  /** A team that would receive work: its active members but `exceptUserId`, sorted by id, and whether `callerId` manages it. */
  async recipientTeam(
    m: Queryable, tenantId: string, teamId: string, callerId: string | null, exceptUserId: string,
  ): Promise<{ managed: boolean | null; members: string[] } | undefined> {
    const [team] = await m.query(
      `SELECT ${teamManagedWhere('t', '$1', '$3')} AS managed,
              ARRAY(SELECT u.id FROM users u WHERE u.tenant_id = $1 AND u.team_id = t.id AND u.disabled_at IS NULL AND u.id <> $4 ORDER BY u.id) AS members
         FROM teams t WHERE t.tenant_id = $1 AND t.id = $2`,
      [tenantId, teamId, callerId, exceptUserId]);
    return team;
  }

  /** Writes the audit row; false when that id (or idempotency key) is already taken, by this request's first run or a race. */
  async insertHandover(m: Queryable, actor: Actor, h: NewHandover): Promise<boolean> {
    const rows = await m.query(
      `INSERT INTO handovers (id, tenant_id, idempotency_key, kind, leave_id, actor_id, api_key_id, from_user_id, to_user_id, to_team_id, scope, reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING RETURNING id`,
      [h.id, actor.tenantId, h.key, h.kind, h.leaveId, actor.userId, actor.apiKeyId, h.fromUserId, h.toUserId, h.toTeamId, h.scope, h.reason]);
    return rows.length > 0;
  }

  /**
   * Writes what moved on the audit row and reads it back; `segmentsPending`: the moved contacts' owner segments are
   * still to be evaluated (libs/engine handover.ts followOwners clears it).
   */
  async recordCounts(m: Queryable, tenantId: string, id: string, moved: MovedCounts, segmentsPending = false): Promise<HandoverRow> {
    const [[row]] = await m.query(
      `UPDATE handovers SET contacts_moved = $3, groups_moved = $4, tasks_moved = $5, tasks_deferred = $6, segments_pending = $7
        WHERE tenant_id = $1 AND id = $2 RETURNING *`,
      [tenantId, id, moved.contacts ?? 0, moved.groups ?? 0, moved.tasks ?? 0, moved.tasksDeferred ?? 0, segmentsPending]);
    return row;
  }

  /** An earlier handover (not a leave's) with this id or this idempotency key; the id's first. */
  async findEarlier(m: Queryable, tenantId: string, id: string | null, key: string | null): Promise<HandoverRow | undefined> {
    const [row] = await m.query(
      `SELECT * FROM handovers WHERE tenant_id = $1 AND kind = 'handover' AND (id = $2 OR idempotency_key = $3) ORDER BY id = $2 DESC LIMIT 1`,
      [tenantId, id, key]);
    return row;
  }

  /**
   * A page of handovers, newest first, from before `after` (a keyset over created_at and id); `managerId`: only
   * those of the members of the teams they manage; `userId`: only those from or to that user. One row more than
   * `limit` says there is a next page.
   */
  page(tenantId: string, q: { managerId?: string | null; userId?: string; after?: [string, string]; limit: number }): Promise<HandoverRow[]> {
    const params: unknown[] = [tenantId];
    const p = (v: unknown) => `$${params.push(v)}`;
    const where = ['h.tenant_id = $1'];
    if (q.managerId !== undefined) where.push(`h.from_user_id IN (${managedUsersSql('$1', p(q.managerId))})`);
    if (q.userId) where.push(`${p(q.userId)}::uuid IN (h.from_user_id, h.to_user_id)`);
    if (q.after) where.push(`(h.created_at, h.id) < (${p(q.after[0])}::timestamptz, ${p(q.after[1])}::uuid)`);
    return this.db.query(
      `SELECT h.* FROM handovers h WHERE ${where.join(' AND ')} ORDER BY h.created_at DESC, h.id DESC LIMIT ${p(q.limit + 1)}`, params);
  }

  async find(tenantId: string, id: string): Promise<HandoverRow | undefined> {
    const [row] = await this.db.query(`SELECT * FROM handovers WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return row;
  }

  /** The user's leaves, earliest first, each with its audit record. */
  leavesOf(m: Queryable, tenantId: string, userId: string): Promise<LeaveRow[]> {
    return m.query(`${SELECT_LEAVE} WHERE l.tenant_id = $1 AND l.user_id = $2 ORDER BY l.starts_at, l.id`, [tenantId, userId]);
  }

  async findLeave(m: Queryable, tenantId: string, userId: string, id: string): Promise<LeaveRow | undefined> {
    const [row] = await m.query(`${SELECT_LEAVE} WHERE l.tenant_id = $1 AND l.user_id = $2 AND l.id = $3`, [tenantId, userId, id]);
    return row;
  }

  /** Inserts the leave; false when its id is taken. */
  async insertLeave(m: Queryable, tenantId: string, l: NewLeave): Promise<boolean> {
    const rows = await m.query(
      `INSERT INTO leaves (id, tenant_id, user_id, starts_at, ends_at, policy, to_user_id, to_team_id, reason, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING RETURNING id`,
      [l.id, tenantId, l.userId, l.from, l.until, l.policy, l.toUserId, l.toTeamId, l.reason, l.createdBy]);
    return rows.length > 0;
  }

  /** Deletes the user's leave; false when there is none. */
  async deleteLeave(m: Queryable, tenantId: string, userId: string, id: string): Promise<boolean> {
    const [, n] = await m.query(`DELETE FROM leaves WHERE tenant_id = $1 AND user_id = $2 AND id = $3`, [tenantId, userId, id]);
    return n > 0;
  }

  /** The id of a leave of the user overlapping [from, until), if any. */
  async overlappingLeave(m: Queryable, tenantId: string, userId: string, p: { from: Date; until: Date }): Promise<string | undefined> {
    const [other] = await m.query(
      `SELECT id FROM leaves WHERE tenant_id = $1 AND user_id = $2 AND starts_at < $4 AND ends_at > $3 LIMIT 1`, [tenantId, userId, p.from, p.until]);
    return other?.id;
  }
}
