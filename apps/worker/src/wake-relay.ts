import { journeysToWake, outboxEnd, type Queryable } from '@sop/engine';
import { workflowIds } from '@sop/temporal';
import type { Client } from '@temporalio/client';

export interface WakeRelay {
  stop(): Promise<void>;
}

/**
 * Follows the outbox and wakes the dispatcher of every active journey whose segment gained or lost
 * members, so entrants are enrolled (and leavers exited) within about a second instead of at the
 * dispatcher's next poll. A missed wake-up costs only latency: the dispatcher still looks every few
 * minutes, and a wake signal is harmless when there is nothing to do.
 */
export interface WakeRelayOptions {
  intervalMs?: number;
  onError?: (err: Error) => void;
}

export async function startWakeRelay(db: Queryable, client: Client, options: WakeRelayOptions = {}): Promise<WakeRelay> {
  const { intervalMs = 500, onError = () => {} } = options;
  let cursor = await outboxEnd(db);
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const { sopIds, cursor: next } = await journeysToWake(db, cursor);
        await Promise.all(sopIds.map((id) => client.workflow.getHandle(workflowIds.sopDispatcher(id)).signal('wake').catch(onError)));
        cursor = next;
      } catch (err) {
        onError(err as Error);
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
