/** The activities the SOP dispatcher calls; the worker implements them over Postgres. */
/** The SOP's status in the database; null when it no longer exists. */
export type SopStatus = 'draft' | 'active' | 'paused' | 'archived' | null;

export interface DispatchInput {
  sopId: string;
  /** the workflow's clock, so a time-skipping test and a replay see the same "now" as the workflow */
  now: number;
}

export interface DispatchPage {
  tasks: number;
  rescheduled: number;
  completed: number;
  deferred: number;
  more: boolean;
}

export interface SopDispatcherActivities {
  /** Enrolls new segment entrants and closes enrollments whose exit conditions hold. */
  prepareDispatch(input: DispatchInput): Promise<{ enrolled: number; exited: number; status?: SopStatus }>;
  /** Creates the tasks of one page of due enrollments (one transaction); `more` when a full page was taken. */
  materializePage(input: DispatchInput & { pageSize: number }): Promise<DispatchPage>;
  /** Epoch ms of the earliest due enrollment, or null when none is waiting. */
  nextDueAt(input: { sopId: string }): Promise<number | null>;
}
