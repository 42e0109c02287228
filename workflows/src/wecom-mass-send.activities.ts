/** What one pass of the WeCom mass-send sweep did, summed over tenants. */
export interface MassSendRun {
  /** templates and Moments tasks created in WeCom */
  created: number;
  /** tasks handed over in them */
  handed: number;
  /** tasks held back by WeCom's 4 a month per customer */
  limited: number;
  /** templates read back */
  polled: number;
  /** tasks completed `sent` */
  sent: number;
  /** unsent templates cancelled in WeCom (their tasks were cancelled) */
  cancelled: number;
}

/** The activities the WeCom mass-send sweep calls; the worker implements them. */
export interface WecomMassSendActivities {
  /**
   * Hands the pending tasks of steps with `wecomMassSend` whose window has opened to WeCom: one template per
   * executor and batch (same SOP version, step, window and rendered content), its intent recorded before the call.
   */
  handOverMassSends(input: { now: number; tenantIds?: string[] }): Promise<MassSendRun>;
  /** Reads back the templates due a look: completes the tasks WeCom sent, cancels templates whose tasks were cancelled. */
  pollMassSends(input: { now: number; tenantIds?: string[] }): Promise<MassSendRun>;
}
