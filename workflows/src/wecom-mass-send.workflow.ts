import { proxyActivities } from '@temporalio/workflow';
import type { MassSendRun, WecomMassSendActivities } from './wecom-mass-send.activities';

const { handOverMassSends, pollMassSends } = proxyActivities<WecomMassSendActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '20s',
  // WeCom's rate limits are retried by the client first; then here, with backoff
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

export interface WecomMassSendInput {
  /** the sweep's clock (epoch ms); the workflow's own time when absent (Schedule firings) */
  now?: number;
  /** only these tenants (tests); every connected tenant when absent */
  tenantIds?: string[];
}

/**
 * Started every minute by the `wecom-mass-send` Schedule (a run still going makes the next skip): hands due
 * mass-send tasks to WeCom, then reads back what employees confirmed. Both steps are idempotent (intents are
 * recorded before WeCom is called; completions are keyed by the task's state), so retries are safe.
 */
export async function wecomMassSendWorkflow(input: WecomMassSendInput = {}): Promise<MassSendRun> {
  const now = input.now ?? Date.now();
  const handed = await handOverMassSends({ now, tenantIds: input.tenantIds });
  const polled = await pollMassSends({ now, tenantIds: input.tenantIds });
  return {
    created: handed.created + polled.created, handed: handed.handed + polled.handed, limited: handed.limited + polled.limited,
    polled: handed.polled + polled.polled, sent: handed.sent + polled.sent, cancelled: handed.cancelled + polled.cancelled,
  };
}
