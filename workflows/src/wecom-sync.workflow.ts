import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, ParentClosePolicy, proxyActivities, setHandler, startChild } from '@temporalio/workflow';
import { wecomSyncStatusQuery, type WecomSyncPhase } from './signals';
import type { WecomNightlyActivities, WecomSyncActivities } from './wecom-sync.activities';

/**
 * A tenant's sync workflow id is this and the tenant id: one at a time per tenant (the API's start, the nightly
 * start and a retry all agree). A string, not a function: every exported function here is a workflow type.
 */
export const WECOM_SYNC_WORKFLOW_ID_PREFIX = 'wecom-sync/';

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

const nightly = proxyActivities<WecomNightlyActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 5 } });

/**
 * Started by the `wecom-nightly-sync` Schedule: a full sync of every connected organization, each its own
 * workflow (abandoned by this one, so one organization's long sync delays no other); an organization whose
 * sync already runs is skipped. The full sync repairs whatever drift the callbacks missed.
 */
export async function wecomNightlySyncWorkflow(): Promise<{ started: number; running: number }> {
  const tenants = await nightly.listWecomTenants();
  let started = 0;
  let running = 0;
  for (const tenantId of tenants) {
    try {
      await startChild(wecomSyncWorkflow, {
        workflowId: `${WECOM_SYNC_WORKFLOW_ID_PREFIX}${tenantId}`, args: [{ tenantId }], parentClosePolicy: ParentClosePolicy.ABANDON,
      });
      started++;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      running++;
    }
  }
  return { started, running };
}
