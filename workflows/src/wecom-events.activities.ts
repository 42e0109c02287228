/** The activities the WeCom events workflow calls; the worker implements them. */
export interface WecomEventsActivities {
  /**
   * Applies the tenant's oldest unprocessed callback events (in id order, at most `batchSize`), each effect in
   * the same transaction as its `processed_at`. `more` when events may be left (a full batch, or WeCom out of
   * reach: then it throws after saving what it applied, and the retry goes on from there).
   */
  applyWecomEvents(input: { tenantId: string; batchSize?: number }): Promise<{ applied: number; failed: number; more: boolean }>;
}
