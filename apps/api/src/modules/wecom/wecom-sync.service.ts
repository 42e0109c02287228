import { Injectable } from '@nestjs/common';
import { workflowIds } from '@sop/temporal';
import { wecomSyncRequestSignal, wecomSyncWorkflow, type WecomSyncKind } from '@sop/workflows';
import { COMMON_ERRORS, fail, failAt } from '../../common/errors.catalog';
import { TemporalService } from '../../temporal/temporal.module';
import type { WecomMemberDto, WecomSyncRunDto } from './wecom.dto';
import { WECOM_ERRORS } from './wecom.errors';
import { type RunRow, WecomRepository } from './wecom.repository';

export const toRun = (r: RunRow): WecomSyncRunDto => ({
  id: r.id, kind: r.kind, status: r.status, startedAt: r.started_at, finishedAt: r.finished_at, counts: r.counts, error: r.error,
});

/**
 * Starting the full sync (one workflow per tenant: a second start joins the running one) and what it found:
 * the runs, and the corporation's members with the user each is matched to (by email, or by hand here).
 */
@Injectable()
export class WecomSyncService {
  constructor(private readonly wecom: WecomRepository, private readonly temporal: TemporalService) {}

  /**
   * The running run, or a new one with its workflow started, in one transaction under the tenant's sync lock
   * (the same lock the workflow's first activity takes): Temporal refusing rolls the new run back.
   *
   * One workflow per tenant runs both kinds, so they never overlap. A sync asked while one runs joins it, except a
   * full sync asked during an incremental one, which is queued: the workflow continues as a full sync when the
   * incremental one ends (`queued`). The request is signalled with the start: a workflow that is finishing (its run
   * row no longer running) runs the new row next instead of refusing the start.
   */
  async start(tenantId: string, kind: WecomSyncKind = 'full'): Promise<{ joined: boolean; queued: WecomSyncKind | null; run: WecomSyncRunDto }> {
    await this.connected(tenantId);
    return this.wecom.underSyncLock(tenantId, async (m, running) => {
      const row = running ?? await this.wecom.insertRun(m, tenantId, kind);
      try {
        await this.temporal.within(5000, () => this.temporal.client.workflow.signalWithStart(wecomSyncWorkflow, {
          taskQueue: this.temporal.taskQueue, workflowId: workflowIds.wecomSync(tenantId), args: [{ tenantId, kind: row.kind }],
          signal: wecomSyncRequestSignal, signalArgs: [running ? { kind } : { kind, runId: row.id }],
        }));
      } catch (err) {
        throw fail(COMMON_ERRORS.TEMPORAL_UNAVAILABLE, `The sync could not be started: ${(err as Error).message}`);
      }
      const queued = running && running.kind === 'incremental' && kind === 'full' ? 'full' : null;
      return { joined: Boolean(running), queued, run: toRun(row) };
    });
  }

  async runs(tenantId: string): Promise<WecomSyncRunDto[]> {
    await this.connected(tenantId);
    return (await this.wecom.runs(tenantId)).map(toRun);
  }

  async members(tenantId: string): Promise<WecomMemberDto[]> {
    await this.connected(tenantId);
    return this.memberRows(tenantId);
  }

  /**
   * Matches a member to one of our users by hand (or unmatches it: null). A user is one member at most: the member
   * it was matched to before is unmatched. The sync never changes a match made here.
   */
  async match(tenantId: string, wecomUserId: string, userId: string | null): Promise<WecomMemberDto> {
    await this.connected(tenantId);
    const outcome = await this.wecom.matchByHand(tenantId, wecomUserId, userId);
    if (outcome === 'no member') throw fail(WECOM_ERRORS.WECOM_MEMBER_NOT_FOUND);
    if (outcome === 'no user') throw failAt(WECOM_ERRORS.WECOM_USER_NOT_FOUND, 'userId', 'is not an active user of your organization');
    return (await this.memberRows(tenantId, wecomUserId))[0];
  }

  private async memberRows(tenantId: string, only?: string): Promise<WecomMemberDto[]> {
    return (await this.wecom.members(tenantId, only)).map((r) => ({
      wecomUserId: r.wecom_user_id, name: r.name, email: r.email, active: r.active, userId: r.user_id, userName: r.user_name,
      matchedBy: r.matched_by, syncedAt: r.synced_at,
    }));
  }

  /**
   * Pushes one of our tag groups to WeCom as a new corp tag group with its tags (an admin's choice, never
   * automatic): queued, then created by the tenant's WeCom workflow, which links the group and its tags and marks
   * the contacts that hold them. Repeating it while queued or once linked queues nothing more.
   */
  async pushTagGroup(tenantId: string, groupId: string): Promise<{ groupId: string; queued: boolean }> {
    await this.connected(tenantId);
    const outcome = await this.wecom.queueTagGroupPush(tenantId, groupId);
    if (outcome === 'no group') throw fail(COMMON_ERRORS.TAG_GROUP_NOT_FOUND, undefined, undefined, 404);
    if (outcome === 'empty') throw fail(WECOM_ERRORS.WECOM_TAG_GROUP_EMPTY);
    return { groupId, queued: outcome === 'queued' };
  }

  private async connected(tenantId: string): Promise<void> {
    if (!(await this.wecom.connected(tenantId))) throw fail(WECOM_ERRORS.WECOM_NOT_CONNECTED);
  }
}
