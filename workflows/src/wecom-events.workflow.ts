import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { wakeSignal } from './signals';
import type { WecomEventsActivities } from './wecom-events.activities';

const { applyWecomEvents } = proxyActivities<WecomEventsActivities>({
  startToCloseTimeout: '2 minutes',
  // The activity heartbeats: a batch on a worker that died is retried within seconds (it re-applies nothing).
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export interface WecomEventsInput {
  tenantId: string;
  batchSize?: number;
  /** how long to wait for another wake signal before finishing (the next callback starts a new run) */
  idleMs?: number;
}

/** Continue as new after this many batches, long before the history nears its limits. */
export const WECOM_EVENT_BATCHES_PER_RUN = 500;

/**
 * One per tenant (`wecom-events/<tenantId>`), started or woken by the API's signal-with-start after each kept
 * callback. Applies the tenant's unprocessed events in batches until none is left, then waits a while for the
 * next wake and finishes. A signal that arrives while a batch runs makes another batch run; one that arrives as
 * the run finishes is delivered to it (Temporal refuses the completion) or starts a new run: no event stays behind.
 */
export async function wecomEventsWorkflow(input: WecomEventsInput): Promise<{ applied: number }> {
  const idleMs = input.idleMs ?? 5 * 60_000;
  const run = { woken: false, applied: 0 };
  setHandler(wakeSignal, () => void (run.woken = true));
  for (let batches = 0; batches < WECOM_EVENT_BATCHES_PER_RUN && !workflowInfo().continueAsNewSuggested; batches++) {
    run.woken = false;
    const result = await applyWecomEvents({ tenantId: input.tenantId, batchSize: input.batchSize });
    run.applied += result.applied + result.failed;
    if (result.more || run.woken) continue;
    if (!(await condition(() => run.woken, idleMs))) return { applied: run.applied };
  }
  return continueAsNew<typeof wecomEventsWorkflow>(input);
}
