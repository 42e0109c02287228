import { wakeSignal } from '@sop/workflows';
import { journeysToWake, outboxEnd, type Queryable } from '@sop/engine';
import { workflowIds } from '@sop/temporal';
import type { Client } from '@temporalio/client';
import { type RelayLoop, runRelayLoop } from './relay-loop';

export type WakeRelay = RelayLoop;

/**
 * Follows the outbox and wakes the dispatcher of every active journey whose segment gained or lost
 * members, so entrants are enrolled (and leavers exited) within about a second instead of at the
 * dispatcher's next poll. Outbox ids of transactions that commit after a later id was read are looked for
 * again on each poll, for a while. A missed wake-up costs only latency: the dispatcher still looks every few
 * minutes, and a wake signal is harmless when there is nothing to do.
 */
export interface WakeRelayOptions {
  intervalMs?: number;
  onError?: (err: Error) => void;
}

/** How long an outbox id below the cursor that is not visible yet is looked for again (then the 5-minute poll covers it). */
const RECHECK_MS = 5 * 60_000;

export async function startWakeRelay(db: Queryable, client: Client, options: WakeRelayOptions = {}): Promise<WakeRelay> {
  const { intervalMs = 500, onError = () => {} } = options;
  let cursor = await outboxEnd(db);
  // id -> when first missed: ids taken by transactions that had not committed when a later id was read
  const pending = new Map<string, number>();
  return runRelayLoop(intervalMs, onError, async () => {
    const { sopIds, cursor: next, pending: missing } = await journeysToWake(db, cursor, [...pending.keys()]);
    await Promise.all(sopIds.map((id) => client.workflow.getHandle(workflowIds.sopDispatcher(id)).signal(wakeSignal).catch(onError)));
    cursor = next;
    keepPending(pending, missing, Date.now());
  });
}

/** Keeps the ids still missing (new ones from now), forgetting those seen since and those missed too long. */
function keepPending(pending: Map<string, number>, missing: string[], now: number): void {
  const still = new Set(missing);
  for (const [id, since] of pending) if (!still.has(id) || now - since > RECHECK_MS) pending.delete(id);
  for (const id of missing) if (!pending.has(id)) pending.set(id, now);
}
