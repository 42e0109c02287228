import {
  archiveSignal, cancelBroadcastSignal, pauseSignal, resumeSignal, sopBroadcastWorkflow, sopDispatcherWorkflow, sopOccurrenceWorkflow, wakeSignal,
  type SopOccurrenceInput,
} from '@sop/workflows';
import { Injectable, Logger } from '@nestjs/common';
import { type SopDefinition, scheduleCalendar } from '@sop/domain';
import { workflowIds } from '@sop/temporal';
import {
  type CalendarSpec, ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { COMMON_ERRORS, fail } from '../../common/errors.catalog';
import { TemporalService } from '../../temporal/temporal.module';

export interface RunningSop {
  id: string;
  kind: string;
  definition: SopDefinition;
  /** when the SOP was first activated: the anchor of its calendar rule */
  anchor: Date;
}

type Change = 'start' | 'pause' | 'resume' | 'stop' | 'edit';

/**
 * What each kind of SOP runs on in Temporal, and how lifecycle changes reach it: a journey has its
 * dispatcher workflow, a recurring SOP its Schedule, a broadcast its workflow. Starting and resuming
 * must succeed (the caller's transaction rolls back with a 503 otherwise); pausing and stopping are
 * best effort, because every page of work checks the SOP's status in the database anyway.
 */
@Injectable()
export class SopRuntime {
  private readonly log = new Logger(SopRuntime.name);

  constructor(private readonly temporal: TemporalService) {}

  async apply(sop: RunningSop, change: Change): Promise<void> {
    const must = change === 'start' || change === 'resume' || (change === 'edit' && sop.kind === 'recurring');
    try {
      await this.temporal.within<unknown>(5000, () => this.run(sop, change));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || err instanceof ScheduleNotFoundError) {
        if (!must) return;
      }
      if (must) throw fail(COMMON_ERRORS.TEMPORAL_UNAVAILABLE, `The SOP could not be ${change === 'edit' ? 'rescheduled' : `${change}ed`} in Temporal: ${(err as Error).message}`);
      this.log.warn(`${change} of SOP ${sop.id} did not reach Temporal: ${(err as Error).message}`);
    }
  }

  private run(sop: RunningSop, change: Change): Promise<unknown> {
    if (sop.kind === 'recurring') return this.schedule(sop, change);
    const workflow = this.temporal.client.workflow;
    if (sop.kind === 'broadcast') {
      const workflowId = workflowIds.sopBroadcast(sop.id);
      if (change === 'start') {
        return workflow.start(sopBroadcastWorkflow, { workflowId, taskQueue: this.temporal.taskQueue, args: [{ sopId: sop.id }] })
          .catch((err) => { if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err; });
      }
      const signal = { pause: pauseSignal, resume: resumeSignal, stop: cancelBroadcastSignal, edit: null }[change];
      return signal ? workflow.getHandle(workflowId).signal(signal) : Promise.resolve();
    }
    const workflowId = workflowIds.sopDispatcher(sop.id);
    const signal = { start: wakeSignal, pause: pauseSignal, resume: resumeSignal, stop: archiveSignal, edit: wakeSignal }[change];
    if (change === 'start' || change === 'resume') {
      return workflow.signalWithStart(sopDispatcherWorkflow, {
        workflowId, taskQueue: this.temporal.taskQueue, args: [{ sopId: sop.id }], signal, signalArgs: [],
      });
    }
    return workflow.getHandle(workflowId).signal(signal);
  }

  /** A recurring SOP's Schedule fires sopOccurrenceWorkflow at each occurrence of its rule, in its time zone. */
  private async schedule(sop: RunningSop, change: Change): Promise<void> {
    const handle = this.temporal.client.schedule.getHandle(workflowIds.sopSchedule(sop.id));
    if (change === 'pause') return handle.pause('SOP paused');
    if (change === 'resume') return handle.unpause('SOP resumed');
    if (change === 'stop') return handle.delete();
    const def = sop.definition;
    const spec = {
      calendars: [scheduleCalendar(def.schedule!.rrule, def.timezone, sop.anchor) as CalendarSpec],
      timezone: def.timezone,
    };
    const action = {
      type: 'startWorkflow' as const, workflowType: sopOccurrenceWorkflow, taskQueue: this.temporal.taskQueue,
      workflowId: workflowIds.sopOccurrence(sop.id), args: [{ sopId: sop.id }] as [SopOccurrenceInput],
    };
    // Firings are keyed by their own time, so none is skipped for overlapping a slow one; a firing missed
    // while the server was down is still made up within a day.
    const policies = { overlap: ScheduleOverlapPolicy.ALLOW_ALL, catchupWindow: '1 day' as const };
    try {
      await this.temporal.client.schedule.create({ scheduleId: workflowIds.sopSchedule(sop.id), spec, action, policies });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await handle.update((current) => ({ ...current, spec, action, policies }));
    }
  }
}
