import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  archiveSignal, dispatcherStatusQuery, pauseSignal, resumeSignal, wakeSignal, type DispatcherState,
} from './signals';
import type { SopDispatcherActivities } from './sop-dispatcher.activities';

const { prepareDispatch, materializePage, nextDueAt } = proxyActivities<SopDispatcherActivities>({
  startToCloseTimeout: '2 minutes',
  // The activities heartbeat while they run: a page on a worker that died is retried within seconds.
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export interface SopDispatcherInput {
  sopId: string;
  /** tasks per page; each page is one activity and one transaction */
  pageSize?: number;
  /** pages materialized at once (rows are claimed with SKIP LOCKED, so pages never overlap) */
  parallelPages?: number;
  /** how long to sleep when nothing is due and no signal comes: new segment entrants are found then */
  idlePollMs?: number;
  /** carried across continue-as-new */
  paused?: boolean;
}


/** Continue as new after this many passes, long before the history nears its limits. */
export const PASSES_PER_RUN = 200;

/**
 * One per active SOP. Each pass enrolls new entrants, applies exits, materializes every due task in
 * pages, then sleeps until the next enrollment is due (or a signal wakes it). Pausing stops between
 * pages; the database's SOP status is the source of truth, so a page never runs for a paused SOP.
 */
export async function sopDispatcherWorkflow(input: SopDispatcherInput): Promise<{ archived: boolean }> {
  const pageSize = input.pageSize ?? 2000;
  const parallelPages = input.parallelPages ?? 2;
  const idlePollMs = input.idlePollMs ?? 5 * 60_000;
  // Signal handlers change this object; reading through it keeps TypeScript from narrowing stale values.
  const run = { state: (input.paused ? 'paused' : 'running') as DispatcherState, woken: false, tasks: 0, passes: 0 };
  setHandler(wakeSignal, () => void (run.woken = true));
  setHandler(pauseSignal, () => void (run.state = run.state === 'archived' ? 'archived' : 'paused'));
  setHandler(resumeSignal, () => {
    if (run.state === 'paused') run.state = 'running';
    run.woken = true;
  });
  setHandler(archiveSignal, () => void (run.state = 'archived'));
  setHandler(dispatcherStatusQuery, () => ({ state: run.state, passes: run.passes, tasks: run.tasks }));

  while (run.passes < PASSES_PER_RUN && !workflowInfo().continueAsNewSuggested) {
    await condition(() => run.state !== 'paused');
    if (run.state === 'archived') return { archived: true };
    run.woken = false;
    run.passes++;
    const now = Date.now();
    const prepared = await prepareDispatch({ sopId: input.sopId, now });
    // The database is the source of truth: a lost pause or archive signal is caught up with here.
    if (prepared.status === 'paused') {
      // Wait for the resume signal, but look at the database again after a while: a resume that raced
      // this pass may have been signalled already.
      await condition(() => run.state === 'archived' || run.woken, idlePollMs);
      continue;
    }
    if (prepared.status !== undefined && prepared.status !== 'active') return { archived: true };
    let progress = prepared.enrolled + prepared.exited;
    for (let more = true; more && run.state === 'running';) {
      const pages = await Promise.all(Array.from({ length: parallelPages }, () => materializePage({ sopId: input.sopId, now, pageSize })));
      run.tasks += pages.reduce((sum, page) => sum + page.tasks, 0);
      progress += pages.reduce((sum, page) => sum + page.tasks + page.rescheduled + page.completed + page.deferred, 0);
      more = pages.some((page) => page.more);
    }
    const next = await nextDueAt({ sopId: input.sopId });
    // Something due that no page could take (rows locked by a concurrent page): look again in a second, not at once.
    const sleepMs = Math.max(progress ? 0 : 1000, Math.min(idlePollMs, next === null ? idlePollMs : next - Date.now()));
    if (sleepMs > 0) await condition(() => run.woken || run.state !== 'running', sleepMs);
  }
  if (run.state === 'archived') return { archived: true };
  return continueAsNew<typeof sopDispatcherWorkflow>({ ...input, paused: run.state === 'paused' });
}
