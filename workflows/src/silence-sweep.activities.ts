/** The activities the silence sweep workflow calls; the worker implements them. */
export interface SilenceSweepActivities {
  /**
   * Re-evaluates contacts whose activity times crossed a silence threshold since the last sweep, and takes
   * purchases that turned 30 days old out of their contacts' 30-day spend (agedSpend: contacts changed); of
   * `tenantIds` only, when given (a task scheduled by a run before it has no input).
   */
  sweepSilence(input?: { tenantIds?: string[] }): Promise<{ tenants: number; contacts: number; agedSpend?: number }>;
}
