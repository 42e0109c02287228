import { proxyActivities } from '@temporalio/workflow';
import type { RoundTripActivities } from './round-trip.activities';

export interface RoundTripInput {
  tenantId: string;
  roundTripId: string;
}

const { completeRoundTrip } = proxyActivities<RoundTripActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumAttempts: 10 },
});

/** Proves API -> Temporal -> worker -> Postgres: the activity records completion in the database. */
export async function roundTripWorkflow(input: RoundTripInput): Promise<{ workerIdentity: string }> {
  return completeRoundTrip({ tenantId: input.tenantId, roundTripId: input.roundTripId });
}
