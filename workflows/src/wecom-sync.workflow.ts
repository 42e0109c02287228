import { ActivityFailure, ApplicationFailure, proxyActivities, setHandler } from '@temporalio/workflow';
import { wecomSyncStatusQuery, type WecomSyncPhase } from './signals';
import type { WecomSyncActivities } from './wecom-sync.activities';

// Pages are written with their cursor in one transaction, so a retried activity resumes after the last page in.
// A short heartbeat timeout moves the work to another worker within seconds when one dies; rate limits the
// client's own backoff did not absorb are retried here, more slowly.
const sync = proxyActivities<WecomSyncActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '20s',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 8 },
});
const bookkeeping = proxyActivities<WecomSyncActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 10 },
});

export interface WecomSyncResult {
  runId: string;
  status: 'succeeded' | 'failed';
}

/**
 * A full sync of one tenant's WeCom corporation (workflow id `wecom-sync/<tenantId>`, so a tenant's syncs never
 * overlap): members, corp tags, external contacts per member, customer groups. An activity that fails for good
 * (WeCom refused, retries exhausted) ends the run as failed with its error; the workflow itself completes.
 */
export async function wecomSyncWorkflow({ tenantId }: { tenantId: string }): Promise<WecomSyncResult> {
  let phase: WecomSyncPhase = 'starting';
  let runId: string | null = null;
  setHandler(wecomSyncStatusQuery, () => ({ runId, phase }));
  runId = await bookkeeping.openWecomSync(tenantId);
  try {
    phase = 'members';
    await sync.syncWecomMembers(tenantId, runId);
    phase = 'tags';
    await sync.syncWecomTags(tenantId, runId);
    phase = 'contacts';
    while (!(await sync.syncWecomContacts(tenantId, runId)).done);
    phase = 'groups';
    while (!(await sync.syncWecomGroups(tenantId, runId)).done);
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const cause = err.cause instanceof ApplicationFailure || err.cause instanceof Error ? err.cause.message : err.message;
    await bookkeeping.finishWecomSync(tenantId, runId, `${phase}: ${cause}`);
    phase = 'failed';
    return { runId, status: 'failed' };
  }
  await bookkeeping.finishWecomSync(tenantId, runId, null);
  phase = 'succeeded';
  return { runId, status: 'succeeded' };
}
