import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { followOwners, holdRecipients, type MoveContext, moveGroups, moveTasks, type Queryable, reassignContacts, rowChecksBack } from '@sop/engine';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { managesUser } from '../../common/access/managed';
import { seesWholeOrganization } from '../../common/access/roles';
import { fail, notFound } from '../../common/errors.catalog';
import { decodeCursor, encodeCursor } from '../../common/pagination';
import type { Principal } from '../../common/principal';
import { lockSubject, recipients, toHandoverDto } from './handover-rules';
import { type CreateHandoverDto, type HandoverDto, type HandoverPageDto, type HandoverQuery, HANDOVER_SCOPES } from './handovers.dto';
import { HANDOVERS_ERRORS } from './handovers.errors';
import { type HandoverRow, HandoversRepository } from './handovers.repository';

/**
 * Moves a user's contacts, customer groups and open tasks to another user or over a team, in one
 * transaction with one audit row. Each kind of row moves with one statement (see libs/engine handover.ts).
 * A repeated id or Idempotency-Key answers the first result and moves nothing. The moved contacts' owner-based
 * segments and computed tags follow just after the commit (`followOwners`, started here without waiting for it;
 * the audit row says `segments_pending` until it is done, and the worker's relay finishes any left over).
 */
@Injectable()
export class HandoversService {
  private readonly log = new Logger(HandoversService.name);

  constructor(@InjectDataSource() private readonly db: DataSource, private readonly repo: HandoversRepository) {}

  async create(caller: Principal, dto: CreateHandoverDto, idempotencyKey?: string): Promise<{ created: boolean; handover: HandoverDto }> {
    const done = await this.move(caller, dto, idempotencyKey);
    if (done.created && done.handover.moved.contacts > 0) this.followOwnersSoon(done.handover.id);
    return done;
  }

  /** Owner segments and computed tags of the moved contacts, after the commit; a failure leaves the flag for the worker's relay. */
  private followOwnersSoon(handoverId: string): void {
    followOwners(this.db, { handoverId }).catch((err: Error) =>
      this.log.warn(`handover ${handoverId}: owner segments not evaluated yet (the worker's relay retries): ${err.message}`));
  }

  private async move(caller: Principal, dto: CreateHandoverDto, idempotencyKey?: string): Promise<{ created: boolean; handover: HandoverDto }> {
    const scope = HANDOVER_SCOPES.filter((s) => (dto.scope ?? HANDOVER_SCOPES).includes(s));
    const key = idempotencyKey?.trim() || null;
    return this.db.transaction(async (m) => {
      await lockSubject(this.repo, m, caller, dto.fromUserId, 'fromUserId'); // first: a repeat answers only a caller who may make it
      const earlier = await this.earlier(m, caller, dto.id, key);
      if (earlier) return { created: false, handover: this.sameRequest(earlier, dto, scope) };
      const toUserIds = await recipients(this.repo, m, caller, dto.fromUserId, dto);
      const id = dto.id ?? randomUUID();
      const fresh = await this.repo.insertHandover(m, caller, {
        id, key, kind: 'handover', leaveId: null, fromUserId: dto.fromUserId, toUserId: dto.toUserId ?? null, toTeamId: dto.toTeamId ?? null,
        scope, reason: dto.reason?.trim() ?? '',
      });
      if (!fresh) return this.raced(m, caller, dto, scope, id, key);
      const c: MoveContext = { tenantId: caller.tenantId, fromUserId: dto.fromUserId, toUserIds, handoverId: id, actorId: caller.userId };
      // the recipients held once; per-row foreign-key checks off for the moves when they may be (holdRecipients)
      const trusted = await holdRecipients(m, c);
      const moved = {
        contacts: scope.includes('contacts') ? (await reassignContacts(m, c)).length : 0,
        groups: scope.includes('groups') ? await moveGroups(m, c) : 0,
        tasks: scope.includes('tasks') ? await moveTasks(m, c) : 0,
      };
      if (trusted) await rowChecksBack(m);
      // owner segments follow after the commit (followOwnersSoon): marked pending in this transaction
      return { created: true, handover: toHandoverDto(await this.repo.recordCounts(m, caller.tenantId, id, moved, moved.contacts > 0)) };
    });
  }

  /** Newest first, keyset pages; managers see the handovers of the teams they manage. */
  async list(caller: Principal, q: HandoverQuery): Promise<HandoverPageDto> {
    const rows = await this.repo.page(caller.tenantId, {
      managerId: seesWholeOrganization(caller) ? undefined : caller.userId, userId: q.userId, limit: q.limit,
      after: q.cursor ? decodeCursor(q.cursor) : undefined,
    });
    const items = rows.slice(0, q.limit).map(toHandoverDto);
    const last = rows.length > q.limit ? items[items.length - 1] : undefined;
    return { items, nextCursor: last ? encodeCursor(last.createdAt, last.id) : null };
  }

  async get(caller: Principal, id: string): Promise<HandoverDto> {
    const row = await this.repo.find(caller.tenantId, id);
    if (!row) throw notFound('handover', id);
    if (!seesWholeOrganization(caller) && !(await managesUser(this.db, caller, row.from_user_id))) {
      throw fail(HANDOVERS_ERRORS.OUTSIDE_YOUR_TEAM, 'This handover concerns someone outside the teams you manage.');
    }
    return toHandoverDto(row);
  }

  private async earlier(m: Queryable, caller: Principal, id: string | undefined, key: string | null): Promise<HandoverRow | undefined> {
    if (!id && !key) return undefined;
    return this.repo.findEarlier(m, caller.tenantId, id ?? null, key);
  }

  /** A repeat must ask for the same move: one id reused for another handover is a client bug worth saying. */
  private sameRequest(row: HandoverRow, dto: CreateHandoverDto, scope: string[]): HandoverDto {
    const same = row.from_user_id === dto.fromUserId && row.to_user_id === (dto.toUserId ?? null)
      && row.to_team_id === (dto.toTeamId ?? null) && row.scope.join() === scope.join();
    if (!same) {
      throw fail(HANDOVERS_ERRORS.HANDOVER_ID_REUSED, undefined,
        [{ path: row.idempotency_key && !dto.id ? 'Idempotency-Key' : 'id', problem: 'already used for a different handover' }]);
    }
    return toHandoverDto(row);
  }

  /** The insert found the id taken: a concurrent repeat committed first (answer it), or another tenant's id. */
  private async raced(m: Queryable, caller: Principal, dto: CreateHandoverDto, scope: string[], id: string, key: string | null) {
    const earlier = await this.earlier(m, caller, id, key);
    if (!earlier) throw fail(HANDOVERS_ERRORS.HANDOVER_ID_TAKEN, 'id: already taken; send a new one', [{ path: 'id', problem: 'already taken' }]);
    return { created: false, handover: this.sameRequest(earlier, dto, scope) };
  }
}
