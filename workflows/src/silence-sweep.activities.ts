/** The activities the silence sweep workflow calls; the worker implements them. */
export interface SilenceSweepActivities {
  /**
   * Re-evaluates contacts whose activity times crossed a silence threshold since the last sweep, and takes
   * purchases that turned 30 days old out of their contacts' 30-day spend (agedSpend: contacts changed).
   */
  sweepSilence(): Promise<{ tenants: number; contacts: number; agedSpend?: number }>;
}
