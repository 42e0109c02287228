import { Context } from '@temporalio/activity';

/**
 * Heartbeats while `work` runs. The SOP workflows give their activities a short heartbeat timeout, so
 * when a worker dies mid-page Temporal retries the page on another worker within seconds instead of
 * waiting out the start-to-close timeout with the SOP's dispatch stalled.
 */
export async function heartbeating<T>(work: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), 1000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

