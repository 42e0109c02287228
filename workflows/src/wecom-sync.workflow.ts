import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ActivityFailure, ApplicationFailure, continueAsNew, getExternalWorkflowHandle, ParentClosePolicy, patched, proxyActivities, setHandler, startChild,
} from '@temporalio/workflow';
import { wecomSyncRequestSignal, wecomSyncStatusQuery, type WecomSyncKind, type WecomSyncPhase } from './signals';
import type { WecomNightlyActivities, WecomSyncActivities } from './wecom-sync.activities';

/**
 * A tenant's sync workflow id is this and the tenant id: one at a time per tenant (the API's start, the nightly
 * start and a retry all agree). A string, not a function: every exported function here is a workflow type.
 */
export const WECOM_SYNC_WORKFLOW_ID_PREFIX = 'wecom-sync/';

/**
 * The patch that brought sync kinds: the run is opened with its kind (`openWecomSyncRun`), requests signalled while
 * it runs may continue it as another run, and the nightly start asks a running incremental sync for a full one.
 */
const KINDS_PATCH = 'wecom-sync-kinds';
/**
 * The patch that made requests signalled after a finishing run's next row belong to that row: a full sync asked
 * after it is carried into the next run (`queued`) rather than dropped (or, after an incremental run, made the next
 * row itself).
 */
const NEXT_ROW_PATCH = 'wecom-sync-next-row-requests';

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

/** `kind` absent: a full sync (the input before incremental syncs existed). */
export interface WecomSyncInput {
  tenantId: string;
  kind?: WecomSyncKind;
  /** A sync already asked to follow this one (a full sync asked while the run before was finishing). */
  queued?: WecomSyncKind;
}

type SyncRequest = { kind: WecomSyncKind; runId?: string; late: boolean };

/**
 * A sync of one tenant's WeCom corporation (workflow id `wecom-sync/<tenantId>`, so a tenant's syncs never
 * overlap): members, corp tags, external contacts, customer groups. A full sync reads every member's contacts and
 * every group; an incremental one only the members and groups that changed since the last successful sync. An
 * activity that fails for good (WeCom refused, retries exhausted) ends the run as failed with its error; the
 * workflow itself completes, or continues as the run asked of it meanwhile (a full sync asked during an incremental
 * one; a sync asked once this one was finishing).
 */
export async function wecomSyncWorkflow({ tenantId, kind: asked = 'full', queued }: WecomSyncInput): Promise<WecomSyncResult> {
  let phase: WecomSyncPhase = 'starting';
  let runId: string | null = null;
  let kind: WecomSyncKind = asked;
  let closing = false;
  const requests: SyncRequest[] = queued ? [{ kind: queued, late: false }] : [];
  setHandler(wecomSyncStatusQuery, () => ({ runId, phase, kind }));
  setHandler(wecomSyncRequestSignal, (request) => { requests.push({ ...request, late: closing }); });
  if (patched(KINDS_PATCH)) ({ runId, kind } = await bookkeeping.openWecomSyncRun(tenantId, asked));
  else runId = await bookkeeping.openWecomSync(tenantId);
  const id = runId;
  let status: WecomSyncResult['status'] = 'succeeded';
  try {
    phase = 'members';
    await sync.syncWecomMembers(tenantId, id);
    phase = 'tags';
    await sync.syncWecomTags(tenantId, id);
    phase = 'contacts';
    const contacts = kind === 'incremental' ? sync.syncWecomDirtyContacts : sync.syncWecomContacts;
    while (!(await contacts(tenantId, id)).done);
    phase = 'groups';
    const groups = kind === 'incremental' ? sync.syncWecomDirtyGroups : sync.syncWecomGroups;
    while (!(await groups(tenantId, id)).done);
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const cause = err.cause instanceof ApplicationFailure || err.cause instanceof Error ? err.cause.message : err.message;
    closing = true;
    await bookkeeping.finishWecomSync(tenantId, id, `${phase}: ${cause}`);
    phase = 'failed';
    status = 'failed';
  }
  if (status === 'succeeded') {
    closing = true;
    await bookkeeping.finishWecomSync(tenantId, id, null);
    phase = 'succeeded';
  }
  const next = nextRun(requests, id, kind);
  if (next && patched(KINDS_PATCH)) await continueAsNew<typeof wecomSyncWorkflow>({ tenantId, ...next });
  return { runId: id, status };
}

/**
 * What to run after this run, from the requests it received in order. Once this run stopped taking requests, the
 * API may have made the next run's row (a request with a `runId` not this run's): that request and every one after
 * it joined that row, so a full sync among them follows the next run (`queued`) when the next run is incremental.
 * Before it, a full sync asked during an incremental run makes the next run full; any other request was this run.
 */
function nextRun(requests: SyncRequest[], runId: string, kind: WecomSyncKind): Pick<WecomSyncInput, 'kind' | 'queued'> | null {
  const at = requests.findIndex((r) => r.late && r.runId !== undefined && r.runId !== runId);
  const legacy = legacyNextRun(requests, runId, kind);
  if (at < 0 || !requests.slice(at + 1).some((r) => r.kind === 'full') || !patched(NEXT_ROW_PATCH)) return legacy && { kind: legacy };
  const fullNext = (kind === 'incremental' && requests.slice(0, at).some((r) => r.kind === 'full')) || requests[at].kind === 'full';
  return fullNext ? { kind: 'full' } : { kind: 'incremental', queued: 'full' };
}

/** `nextRun` before NEXT_ROW_PATCH: a request after the next row's one counted as asked of this run. */
function legacyNextRun(requests: SyncRequest[], runId: string, kind: WecomSyncKind): WecomSyncKind | null {
  const wanted = requests.filter((r) => (r.kind === 'full' && kind === 'incremental') || (r.late && r.runId !== undefined && r.runId !== runId));
  if (!wanted.length) return null;
  return wanted.some((r) => r.kind === 'full') ? 'full' : 'incremental';
}

const nightly = proxyActivities<WecomNightlyActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 5 } });

/** The input of the nightly and incremental Schedules' workflows (their Schedules give none: every organization). */
export interface WecomSyncAllInput {
  /** only these tenants (tests); every connected organization when absent */
  tenantIds?: string[];
}

/**
 * Started by the `wecom-nightly-sync` Schedule: a full sync of every connected organization (or of `tenantIds`), each its own
 * workflow (abandoned by this one, so one organization's long sync delays no other). An organization whose sync
 * already runs counts as `running` and is asked for a full sync: a running full sync takes that as itself, a running
 * incremental one continues as a full sync when it ends. The full sync repairs whatever drift the callbacks missed.
 */
export async function wecomNightlySyncWorkflow(input: WecomSyncAllInput = {}): Promise<{ started: number; running: number }> {
  const tenants = await nightly.listWecomTenants({ tenantIds: input.tenantIds });
  let started = 0;
  let running = 0;
  for (const tenantId of tenants) {
    const workflowId = `${WECOM_SYNC_WORKFLOW_ID_PREFIX}${tenantId}`;
    if (await startSync(workflowId, { tenantId })) {
      started++;
      continue;
    }
    running++;
    if (!patched(KINDS_PATCH)) continue;
    try {
      await getExternalWorkflowHandle(workflowId).signal(wecomSyncRequestSignal, { kind: 'full' });
    } catch {
      // it ended in between: start the full sync now (unless another start was quicker)
      if (await startSync(workflowId, { tenantId })) {
        started++;
        running--;
      }
    }
  }
  return { started, running };
}

/**
 * Started by the `wecom-incremental-sync` Schedule (every 15 minutes by default): an incremental sync of every
 * connected organization (or of `tenantIds`), each its own workflow; an organization whose sync (of either kind) runs is skipped, as
 * that sync or the next incremental one covers what changed.
 */
export async function wecomIncrementalSyncWorkflow(input: WecomSyncAllInput = {}): Promise<{ started: number; running: number }> {
  const tenants = await nightly.listWecomTenants({ tenantIds: input.tenantIds });
  let started = 0;
  for (const tenantId of tenants) {
    if (await startSync(`${WECOM_SYNC_WORKFLOW_ID_PREFIX}${tenantId}`, { tenantId, kind: 'incremental' })) started++;
  }
  return { started, running: tenants.length - started };
}

/** Starts a tenant's sync as an abandoned child; false when its sync already runs. */
async function startSync(workflowId: string, input: WecomSyncInput): Promise<boolean> {
  try {
    await startChild(wecomSyncWorkflow, { workflowId, args: [input], parentClosePolicy: ParentClosePolicy.ABANDON });
    return true;
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return false;
  }
}
