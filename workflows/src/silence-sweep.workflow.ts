import { proxyActivities } from '@temporalio/workflow';
import type { SilenceSweepActivities } from './silence-sweep.activities';

const { sweepSilence } = proxyActivities<SilenceSweepActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumAttempts: 5 },
});

/** Started by the `silence-sweep` Schedule: one sweep over every tenant (idempotent, so retries are safe). */
export async function silenceSweepWorkflow(): Promise<{ tenants: number; contacts: number }> {
  return sweepSilence();
}
