import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { validationFailed } from '@sop/domain';
import { coverTasksOnLeave, deferTasks, loadPeople, type Queryable } from '@sop/engine';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { failAt, notFound } from '../../common/errors.catalog';
import type { Principal } from '../../common/principal';
import { lockSubject, recipients, toHandoverDto } from './handover-rules';
import type { CreateLeaveDto, LeaveDto } from './handovers.dto';
import { HANDOVERS_ERRORS } from './handovers.errors';
import { HandoversRepository, type LeaveRow } from './handovers.repository';

const toLeaveDto = (r: LeaveRow): LeaveDto => ({
  id: r.id, userId: r.user_id, startsAt: r.starts_at, endsAt: r.ends_at, policy: r.policy, toUserId: r.to_user_id, toTeamId: r.to_team_id,
  reason: r.reason, createdAt: r.created_at,
  // row_to_json gives the audit row's time as text
  handover: r.handover ? toHandoverDto({ ...r.handover, created_at: new Date(r.handover.created_at) }) : null,
});

const sameLeave = (l: LeaveDto, dto: CreateLeaveDto, p: { from: Date; until: Date }) =>
  l.startsAt.getTime() === p.from.getTime() && l.endsAt.getTime() === p.until.getTime() && l.policy === dto.policy
  && l.toUserId === (dto.toUserId ?? null) && l.toTeamId === (dto.toTeamId ?? null);

/**
 * A user's leaves. Recording one applies its policy at once to the user's pending tasks due during it
 * (reassigned or deferred to the return, audited as a handover of kind 'leave'); tasks the engine creates
 * later for a user on leave follow the same policy (libs/engine sop-people.ts coverLeave).
 */
@Injectable()
export class LeavesService {
  constructor(@InjectDataSource() private readonly db: DataSource, private readonly repo: HandoversRepository) {}

  async list(caller: Principal, userId: string): Promise<LeaveDto[]> {
    return this.db.transaction(async (m) => {
      await this.subject(m, caller, userId);
      return (await this.repo.leavesOf(m, caller.tenantId, userId)).map(toLeaveDto);
    });
  }

  async create(caller: Principal, userId: string, dto: CreateLeaveDto): Promise<{ created: boolean; leave: LeaveDto }> {
    const period = this.period(dto);
    return this.db.transaction(async (m) => {
      await this.subject(m, caller, userId); // locked: leaves of one person are recorded one at a time
      if (dto.id) {
        const earlier = await this.find(m, caller.tenantId, userId, dto.id);
        // a repeat must ask for the same leave (as for handovers): one id reused for another is a client bug worth saying
        if (earlier && !sameLeave(earlier, dto, period)) throw failAt(HANDOVERS_ERRORS.LEAVE_ID_REUSED, 'id', 'already used for a different leave');
        if (earlier) return { created: false, leave: earlier };
      }
      if (dto.policy === 'defer' && (dto.toUserId || dto.toTeamId)) {
        throw validationFailed([{ path: dto.toUserId ? 'toUserId' : 'toTeamId', problem: 'a deferring leave has no substitute; use policy reassign' }]);
      }
      if (dto.policy === 'reassign') await recipients(this.repo, m, caller, userId, dto); // refuses a substitute who cannot take work
      await this.assertNoOverlap(m, caller.tenantId, userId, period);
      const id = dto.id ?? randomUUID();
      const inserted = await this.repo.insertLeave(m, caller.tenantId, {
        id, userId, from: period.from, until: period.until, policy: dto.policy, toUserId: dto.toUserId ?? null, toTeamId: dto.toTeamId ?? null,
        reason: dto.reason?.trim() ?? '', createdBy: caller.userId,
      });
      if (!inserted) throw failAt(HANDOVERS_ERRORS.LEAVE_ID_TAKEN, 'id', 'already used for another leave; send a new one');
      await this.applyToDueTasks(m, caller, userId, id, dto, period);
      return { created: true, leave: (await this.find(m, caller.tenantId, userId, id))! };
    });
  }

  /** Ends the policy for work created from now on; tasks already moved stay where they went (their history says so). */
  async remove(caller: Principal, userId: string, leaveId: string): Promise<void> {
    await this.db.transaction(async (m) => {
      await this.subject(m, caller, userId);
      if (!(await this.repo.deleteLeave(m, caller.tenantId, userId, leaveId))) throw notFound('leave', leaveId);
    });
  }

  /** The user (404 when not in the caller's tenant), locked; managers only for their teams' members (403). */
  private async subject(m: Queryable, caller: Principal, userId: string): Promise<void> {
    if (!(await this.repo.userExists(m, caller.tenantId, userId))) throw notFound('user', userId);
    await lockSubject(this.repo, m, caller, userId, 'userId');
  }

  private period(dto: CreateLeaveDto): { from: Date; until: Date } {
    const from = new Date(dto.startsAt);
    const until = new Date(dto.endsAt);
    if (until <= from) throw failAt(HANDOVERS_ERRORS.LEAVE_PERIOD_INVALID, 'endsAt', 'must be after startsAt');
    if (until <= new Date()) throw failAt(HANDOVERS_ERRORS.LEAVE_PERIOD_INVALID, 'endsAt', 'must be in the future: a leave that is over changes nothing');
    return { from, until };
  }

  private async assertNoOverlap(m: Queryable, tenantId: string, userId: string, p: { from: Date; until: Date }): Promise<void> {
    const other = await this.repo.overlappingLeave(m, tenantId, userId, p);
    if (other) throw failAt(HANDOVERS_ERRORS.LEAVE_OVERLAPS, 'startsAt', `overlaps leave ${other} of this user; change or delete that one first`);
  }

  /** The user's pending tasks due during the leave follow its policy now, audited as a handover of kind 'leave'. */
  private async applyToDueTasks(
    m: Queryable, caller: Principal, userId: string, leaveId: string, dto: CreateLeaveDto, period: { from: Date; until: Date },
  ): Promise<void> {
    const handoverId = randomUUID();
    await this.repo.insertHandover(m, caller, {
      id: handoverId, key: null, kind: 'leave', leaveId, fromUserId: userId, toUserId: dto.toUserId ?? null, toTeamId: dto.toTeamId ?? null,
      scope: ['tasks'], reason: dto.reason?.trim() ?? '',
    });
    const c = { tenantId: caller.tenantId, fromUserId: userId, handoverId, actorId: caller.userId };
    const moved = dto.policy === 'defer'
      ? { tasksDeferred: await deferTasks(m, c, period) }
      : { tasks: await coverTasksOnLeave(m, c, period, await loadPeople(m, caller.tenantId, period.from)) };
    await this.repo.recordCounts(m, caller.tenantId, handoverId, moved);
  }

  private async find(m: Queryable, tenantId: string, userId: string, id: string): Promise<LeaveDto | undefined> {
    const row = await this.repo.findLeave(m, tenantId, userId, id);
    return row && toLeaveDto(row);
  }
}
