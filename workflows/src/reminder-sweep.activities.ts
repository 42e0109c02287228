/** The activities the reminder sweep calls; the worker implements them over Postgres and @sop/notify. */
export interface ReminderPlan {
  digests: number;
  dueSoon: number;
  escalations: number;
  deliveries: number;
}

export interface DeliveryRun {
  sent: number;
  retried: number;
  failed: number;
}

export interface ReminderSweepActivities {
  /** Plans every reminder whose moment fell in (last sweep, now]; repeats and overlaps create nothing twice. */
  planReminders(input: { now: number; tenantIds?: string[] }): Promise<ReminderPlan>;
  /** Sends due deliveries in claimed pages until none is due or its time budget is spent. */
  deliverReminders(input: { now?: number; tenantIds?: string[] }): Promise<DeliveryRun>;
}
