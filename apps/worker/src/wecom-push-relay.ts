import type { Queryable } from '@sop/engine';
import { workflowIds } from '@sop/temporal';
import type { WecomAccess } from '@sop/wecom';
import { wakeSignal, wecomEventsWorkflow } from '@sop/workflows';
import type { Client } from '@temporalio/client';
import { type RelayLoop, runRelayLoop } from './relay-loop';

/**
 * Wakes a tenant's WeCom events workflow (which also pushes our tags to WeCom) when tag changes wait to go out:
 * the tag push queues (`wecom_tag_pushes`, `wecom_corp_tag_ops`) are filled by triggers in the same transaction
 * as every tag change, whatever path made it, and this follows them. A tenant is signalled when something newer
 * than its last signal is queued, and again every `renudgeMs` while rows wait (a signal lost to an unreachable
 * Temporal costs only that delay). Only tenants whose connection this process can open are woken: a worker
 * without the sealing keys could not push them anyway.
 */
export type WecomPushRelay = RelayLoop;

export interface WecomPushRelayOptions {
  intervalMs?: number;
  renudgeMs?: number;
  onError?: (err: Error) => void;
}

export async function startWecomPushRelay(
  db: Queryable, client: Client, taskQueue: string, wecom: WecomAccess, options: WecomPushRelayOptions = {},
): Promise<WecomPushRelay> {
  const { intervalMs = 500, renudgeMs = 30_000, onError = () => {} } = options;
  const signalled = new Map<string, { latest: number; at: number }>();
  const openable = new Map<string, { ok: boolean; at: number }>();
  const canOpen = async (tenantId: string): Promise<boolean> => {
    const known = openable.get(tenantId);
    if (known && Date.now() - known.at < 60_000) return known.ok;
    let ok = false;
    try {
      ok = Boolean(await wecom.connection(db, tenantId));
    } catch {
      ok = false; // sealed with keys this process does not hold
    }
    openable.set(tenantId, { ok, at: Date.now() });
    return ok;
  };
  return runRelayLoop(intervalMs, onError, async () => {
    const due: { tenant_id: string; latest: Date }[] = await db.query(
      `SELECT tenant_id, max(at) AS latest FROM (
         SELECT tenant_id, queued_at AS at FROM wecom_tag_pushes WHERE error IS NULL
         UNION ALL
         SELECT tenant_id, queued_at FROM wecom_corp_tag_ops WHERE done_at IS NULL) q
       GROUP BY tenant_id`);
    const now = Date.now();
    await Promise.all(due.map(async ({ tenant_id: tenantId, latest }) => {
      const last = signalled.get(tenantId);
      if (last && last.latest >= latest.getTime() && now - last.at < renudgeMs) return;
      if (!(await canOpen(tenantId))) return;
      signalled.set(tenantId, { latest: latest.getTime(), at: now });
      await client.workflow.signalWithStart(wecomEventsWorkflow, {
        workflowId: workflowIds.wecomEvents(tenantId), taskQueue, args: [{ tenantId }], signal: wakeSignal, signalArgs: [],
      }).catch(onError);
    }));
    for (const tenantId of signalled.keys()) if (!due.some((d) => d.tenant_id === tenantId)) signalled.delete(tenantId);
  });
}
