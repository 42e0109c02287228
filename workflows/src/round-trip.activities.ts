/** The activities the round-trip workflow calls; the worker implements them. */
export interface RoundTripActivities {
  /** Marks the round trip completed; a repeat call changes nothing. */
  completeRoundTrip(input: { tenantId: string; roundTripId: string }): Promise<{ workerIdentity: string }>;
}
