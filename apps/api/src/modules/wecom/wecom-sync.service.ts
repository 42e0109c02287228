import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { workflowIds } from '@sop/temporal';
import { wecomSyncRequestSignal, wecomSyncWorkflow, type WecomSyncKind } from '@sop/workflows';
import { DataSource } from 'typeorm';
import { COMMON_ERRORS, fail, failAt } from '../../common/errors.catalog';
import { TemporalService } from '../../temporal/temporal.module';
import type { WecomMemberDto, WecomSyncRunDto } from './wecom.dto';
import { WECOM_ERRORS } from './wecom.errors';

interface RunRow {
  id: string;
  kind: 'full' | 'incremental';
  status: 'running' | 'succeeded' | 'failed';
  started_at: Date;
  finished_at: Date | null;
  counts: Record<string, number>;
  error: string | null;
}

const RUN_COLUMNS = `id::text, kind, status, started_at, finished_at, counts, error`;
const toRun = (r: RunRow): WecomSyncRunDto => ({
  id: r.id, kind: r.kind, status: r.status, startedAt: r.started_at, finishedAt: r.finished_at, counts: r.counts, error: r.error,
});

/** The tenant's latest sync run, for the connection's status. */
export async function latestSyncRun(db: DataSource, tenantId: string): Promise<WecomSyncRunDto | null> {
  const [row] = await db.query(`SELECT ${RUN_COLUMNS} FROM wecom_sync_runs WHERE tenant_id = $1 ORDER BY started_at DESC, id DESC LIMIT 1`, [tenantId]);
  return row ? toRun(row) : null;
}

/**
 * Starting the full sync (one workflow per tenant: a second start joins the running one) and what it found:
 * the runs, and the corporation's members with the user each is matched to (by email, or by hand here).
 */
@Injectable()
export class WecomSyncService {
  constructor(@InjectDataSource() private readonly db: DataSource, private readonly temporal: TemporalService) {}

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
    return this.db.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtextextended('wecom-sync:' || $1, 0))`, [tenantId]);
      const [running]: RunRow[] = await m.query(`SELECT ${RUN_COLUMNS} FROM wecom_sync_runs WHERE tenant_id = $1 AND status = 'running' ORDER BY id DESC LIMIT 1`, [tenantId]);
      // nothing to be incremental to before a first successful sync: that one is full (the workflow agrees)
      const [row]: RunRow[] = running ? [running] : await m.query(
        `INSERT INTO wecom_sync_runs (tenant_id, kind)
         SELECT $1, CASE WHEN EXISTS (SELECT 1 FROM wecom_sync_runs WHERE tenant_id = $1 AND status = 'succeeded') THEN $2 ELSE 'full' END
         RETURNING ${RUN_COLUMNS}`, [tenantId, kind]);
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
    const rows: RunRow[] = await this.db.query(`SELECT ${RUN_COLUMNS} FROM wecom_sync_runs WHERE tenant_id = $1 ORDER BY started_at DESC, id DESC LIMIT 20`, [tenantId]);
    return rows.map(toRun);
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
    await this.db.transaction(async (m) => {
      const [member] = await m.query(`SELECT 1 FROM wecom_users WHERE tenant_id = $1 AND wecom_user_id = $2 FOR UPDATE`, [tenantId, wecomUserId]);
      if (!member) throw fail(WECOM_ERRORS.WECOM_MEMBER_NOT_FOUND);
      if (userId !== null) {
        const [user] = await m.query(`SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2 AND disabled_at IS NULL`, [tenantId, userId]);
        if (!user) throw failAt(WECOM_ERRORS.WECOM_USER_NOT_FOUND, 'userId', 'is not an active user of your organization');
        await m.query(
          `UPDATE wecom_users SET user_id = NULL, matched_by = NULL, matched_at = now() WHERE tenant_id = $1 AND user_id = $2 AND wecom_user_id <> $3`,
          [tenantId, userId, wecomUserId],
        );
      }
      // matched_at: the next incremental sync reads this member's customers again, so their owners follow the match
      await m.query(`UPDATE wecom_users SET user_id = $3, matched_by = 'hand', matched_at = now() WHERE tenant_id = $1 AND wecom_user_id = $2`, [tenantId, wecomUserId, userId]);
    });
    return (await this.memberRows(tenantId, wecomUserId))[0];
  }

  private async memberRows(tenantId: string, only?: string): Promise<WecomMemberDto[]> {
    const rows = await this.db.query(
      `SELECT wu.wecom_user_id, wu.name, wu.email, wu.active, wu.user_id, u.name AS user_name, wu.matched_by, wu.synced_at
         FROM wecom_users wu LEFT JOIN users u ON u.tenant_id = wu.tenant_id AND u.id = wu.user_id
        WHERE wu.tenant_id = $1 AND ($2::text IS NULL OR wu.wecom_user_id = $2)
        ORDER BY wu.active DESC, wu.name, wu.wecom_user_id`,
      [tenantId, only ?? null],
    );
    return rows.map((r: Record<string, never>) => ({
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
    return this.db.transaction(async (m) => {
      const [group] = await m.query(
        `SELECT g.wecom_group_id, (SELECT count(*)::int FROM tags t WHERE t.tenant_id = $1 AND t.group_id = g.id) AS tags
           FROM tag_groups g WHERE g.tenant_id = $1 AND g.id = $2 FOR UPDATE`, [tenantId, groupId]);
      if (!group) throw fail(COMMON_ERRORS.TAG_GROUP_NOT_FOUND, undefined, undefined, 404);
      if (group.wecom_group_id) return { groupId, queued: false };
      if (!group.tags) throw fail(WECOM_ERRORS.WECOM_TAG_GROUP_EMPTY);
      await m.query(
        `INSERT INTO wecom_corp_tag_ops (tenant_id, kind, group_id) SELECT $1, 'create_group', $2
          WHERE NOT EXISTS (SELECT 1 FROM wecom_corp_tag_ops WHERE tenant_id = $1 AND group_id = $2 AND kind = 'create_group' AND done_at IS NULL)`,
        [tenantId, groupId]);
      return { groupId, queued: true };
    });
  }

  private async connected(tenantId: string): Promise<void> {
    const [row] = await this.db.query(`SELECT 1 FROM wecom_connections WHERE tenant_id = $1`, [tenantId]);
    if (!row) throw fail(WECOM_ERRORS.WECOM_NOT_CONNECTED);
  }
}
