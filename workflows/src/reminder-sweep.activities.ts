/** The activities the reminder sweep calls; the worker implements them over Postgres and @sop/notify. */
export interface ReminderPlan {
  digests: number;
  /** managers' digests of yesterday's completion (absent in runs recorded before they existed) */
  managerDigests?: number;
  dueSoon: number;
  escalations: number;
  deliveries: number;
}

export interface DeliveryRun {
  sent: number;
  retried: number;
  failed: number;
}

export interface ExpiryRun {
  /** tasks that became `expired` */
  expired: number;
}

export interface HeldRetryRun {
  /** tasks held for want of room that were placed within the limits */
  placed: number;
  /** tried, still no room: tried again later */
  stillHeld: number;
  /** their week ended: they stay held */
  givenUp: number;
}

export interface ReminderSweepActivities {
  /** Plans every reminder whose moment fell in (last sweep, now]; repeats and overlaps create nothing twice. */
  planReminders(input: { now: number; tenantIds?: string[] }): Promise<ReminderPlan>;
  /** Sends due deliveries in claimed pages until none is due or its time budget is spent. */
  deliverReminders(input: { now?: number; tenantIds?: string[] }): Promise<DeliveryRun>;
  /** Expires pending tasks whose window closed more than the tenant's grace period before `now`, in pages. */
  expireTasks(input: { now: number; tenantIds?: string[] }): Promise<ExpiryRun>;
  /** Places the recurring and broadcast tasks held for want of room whose retry is due, where the limits now have room. */
  retryHeldTasks(input: { now: number; tenantIds?: string[] }): Promise<HeldRetryRun>;
}
