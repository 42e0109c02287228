import { proxyActivities } from '@temporalio/workflow';
import type { SilenceSweepActivities } from './silence-sweep.activities';

const { sweepSilence } = proxyActivities<SilenceSweepActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumAttempts: 5 },
});

export interface SilenceSweepInput {
  /** only these tenants (tests); every tenant when absent (Schedule firings) */
  tenantIds?: string[];
}

/** Started by the `silence-sweep` Schedule: one sweep over every tenant (idempotent, so retries are safe). */
export async function silenceSweepWorkflow(input: SilenceSweepInput = {}): Promise<{ tenants: number; contacts: number; agedSpend?: number }> {
  return sweepSilence({ tenantIds: input.tenantIds });
}
