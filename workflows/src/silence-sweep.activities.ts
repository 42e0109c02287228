/** The activities the silence sweep workflow calls; the worker implements them. */
export interface SilenceSweepActivities {
  /** Re-evaluates contacts whose activity times crossed a silence threshold since the last sweep. */
  sweepSilence(): Promise<{ tenants: number; contacts: number }>;
}
