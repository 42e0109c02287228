import { applyExits, enrollEntrants, materializeDuePage, nextDueAt } from '@sop/engine';
import type { SopDispatcherActivities } from '@sop/workflows';
import { Context } from '@temporalio/activity';
import type { DataSource } from 'typeorm';

/**
 * Heartbeats while `work` runs. The dispatcher gives these activities a short heartbeat timeout, so
 * when a worker dies mid-page Temporal retries the page on another worker within seconds instead of
 * waiting out the start-to-close timeout with the SOP's dispatch stalled.
 */
async function heartbeating<T>(work: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), 1000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

export function sopDispatcherActivities(db: DataSource): SopDispatcherActivities {
  return {
    prepareDispatch: ({ sopId, now }) => heartbeating(async () => {
      const enrolled = await enrollEntrants(db, sopId, new Date(now));
      return { enrolled, exited: await applyExits(db, sopId) };
    }),
    materializePage: ({ sopId, now, pageSize }) => heartbeating(() => materializeDuePage(db, sopId, new Date(now), pageSize)),
    nextDueAt: ({ sopId }) => heartbeating(async () => (await nextDueAt(db, sopId))?.getTime() ?? null),
  };
}
