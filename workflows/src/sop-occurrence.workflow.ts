import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { broadcastStatusQuery, cancelBroadcastSignal, pauseSignal, resumeSignal } from './signals';
import type { OccurrencePageResult, SopOccurrenceActivities } from './sop-occurrence.activities';

const { materializeOccurrencePage, broadcastPlan, snapshotBroadcast } = proxyActivities<SopOccurrenceActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds', // pages heartbeat: one on a worker that died is retried within seconds
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Set by Temporal on every workflow a Schedule starts: the nominal time of that firing. */
const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export interface SopOccurrenceInput {
  sopId: string;
  /** epoch ms of the occurrence; a Schedule's firing leaves it out and its scheduled time is used */
  occurrence?: number;
  pageSize?: number;
}

/**
 * One firing of a recurring SOP (started by the SOP's Temporal Schedule): the audience's tasks for that
 * occurrence, in pages. Tasks are keyed by occurrence, so a firing run twice creates each task once.
 */
export async function sopOccurrenceWorkflow(input: SopOccurrenceInput): Promise<{ occurrence: number; tasks: number; skipped?: string }> {
  const scheduled = workflowInfo().typedSearchAttributes.get(SCHEDULED_START);
  const occurrence = input.occurrence ?? scheduled?.getTime() ?? Math.floor(Date.now() / 60_000) * 60_000;
  let tasks = 0;
  for (let after: string | null = null; ;) {
    const page: OccurrencePageResult = await materializeOccurrencePage({ sopId: input.sopId, occurrence, after, pageSize: input.pageSize ?? 1000 });
    tasks += page.tasks;
    if (page.held) return { occurrence, tasks, skipped: 'the SOP is paused' }; // a paused recurring SOP skips its firings
    if (page.skipped) return { occurrence, tasks, skipped: page.skipped };
    if (!page.more) return { occurrence, tasks };
    after = page.after;
  }
}

export interface SopBroadcastInput {
  sopId: string;
  pageSize?: number;
  /** pause between pages, so a large broadcast reaches executors at a pace they can follow */
  pageIntervalMs?: number;
  /** carried across continue-as-new */
  after?: string | null;
  tasks?: number;
}


/**
 * One per broadcast: waits for the send time, takes the audience snapshot, then creates its tasks page
 * by page at a steady pace. Pause holds between pages; cancel stops before the next page, and the SOP's
 * status (checked inside every page's transaction) guarantees no task is created after a cancel commits.
 */
export async function sopBroadcastWorkflow(input: SopBroadcastInput): Promise<{ tasks: number; cancelled: boolean }> {
  const run = { state: 'waiting' as 'waiting' | 'sending' | 'paused' | 'cancelled' | 'done', paused: false, cancelled: false, tasks: input.tasks ?? 0 };
  setHandler(pauseSignal, () => void (run.paused = true));
  setHandler(resumeSignal, () => void (run.paused = false));
  setHandler(cancelBroadcastSignal, () => void (run.cancelled = true));
  setHandler(broadcastStatusQuery, () => ({ state: run.cancelled ? 'cancelled' : run.paused ? 'paused' : run.state, tasks: run.tasks }));

  const plan = await broadcastPlan({ sopId: input.sopId });
  if (!plan) return { tasks: run.tasks, cancelled: true };
  if (input.after === undefined) {
    await condition(() => run.cancelled, Math.max(0, plan.sendAt - Date.now()) || 1);
    if (run.cancelled) return { tasks: run.tasks, cancelled: true };
    await snapshotBroadcast({ sopId: input.sopId });
  }
  run.state = 'sending';
  for (let after = input.after ?? null; ;) {
    await condition(() => !run.paused || run.cancelled);
    if (run.cancelled) return { tasks: run.tasks, cancelled: true };
    const page: OccurrencePageResult = await materializeOccurrencePage({ sopId: input.sopId, occurrence: plan.sendAt, after, pageSize: input.pageSize ?? 1000 });
    run.tasks += page.tasks;
    if (page.held) {
      // Paused in the database (its signal may not have come yet, or a resume may have raced it):
      // wait for a signal, and look again after a minute either way.
      await condition(() => run.cancelled || run.paused, 60_000);
      continue;
    }
    if (page.skipped) return { tasks: run.tasks, cancelled: true };
    if (!page.more) break;
    after = page.after;
    if (input.pageIntervalMs) await condition(() => run.cancelled, input.pageIntervalMs);
    if (workflowInfo().continueAsNewSuggested) return continueAsNew<typeof sopBroadcastWorkflow>({ ...input, after, tasks: run.tasks });
  }
  run.state = 'done';
  return { tasks: run.tasks, cancelled: false };
}
