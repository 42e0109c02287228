import {
  type ClaimedDelivery, claimDeliveries, type DeliveryOutcome, finishDeliveries, MAX_DELIVERY_ATTEMPTS, type Queryable, retryDelayMs,
} from '@sop/engine';
import { DeliveryFailure, type Message, type Notifier, type Target } from '@sop/notify';
import type { WecomAccess } from '@sop/wecom';
import type { DeliveryRun } from '@sop/workflows';
import { WecomAppSender } from './wecom-app-messages';

export interface DeliveryOptions {
  /** the clock for claims and retries (tests); the real time when absent */
  now?: Date;
  /** makes email links absolute: the web app's public address */
  appUrl?: string;
  pageSize?: number;
  /** sends in flight at once (the SMTP pool queues beyond its connections) */
  concurrency?: number;
  /** how long a claim holds before another worker may take it again */
  leaseMs?: number;
  /** stop claiming new pages after this long, so a minute's sweep ends before the next */
  budgetMs?: number;
  /** only these tenants' deliveries (tests); every tenant's when absent */
  onlyTenants?: string[];
  /** called after each page (the activity heartbeats) */
  onPage?: () => void;
  /** robot and webhook hosts that may be internal addresses (NOTIFY_INSECURE_TARGET_HOSTS: local test servers) */
  allowHosts?: readonly string[];
  /** tenants' WeCom connections, for the app's text cards (channel wecom_app); such deliveries fail without it */
  wecom?: WecomAccess;
}

/**
 * Sends due deliveries: claims a page, sends it with bounded concurrency through the notifier, and records
 * each outcome (sent; retried with exponential backoff; failed at once when permanent or after the last
 * attempt). The delivery id is the message id the adapter hands on, so receivers can drop a repeat.
 */
export async function deliverDueReminders(db: Queryable, notifier: Notifier, options: DeliveryOptions = {}): Promise<DeliveryRun> {
  const { pageSize = 500, concurrency = 32, leaseMs = 120_000, budgetMs = 45_000 } = options;
  const started = Date.now();
  const run: DeliveryRun = { sent: 0, retried: 0, failed: 0 };
  while (Date.now() - started < budgetMs) {
    const now = options.now ?? new Date();
    const page = await claimDeliveries(db, { now, limit: pageSize, leaseMs, onlyTenants: options.onlyTenants });
    if (!page.length) break;
    const wecomApp = new WecomAppSender(db, options.wecom, options.appUrl);
    const record = groupCommit((outcomes: DeliveryOutcome[]) => finishDeliveries(db, outcomes));
    await inPool(page, concurrency, async (delivery) => {
      const outcome = delivery.channel === 'wecom_app'
        ? await settle(delivery, now, () => wecomApp.send(delivery))
        : await sendOne(notifier, delivery, now, options.appUrl, options.allowHosts ?? []);
      run[outcome.result === 'sent' ? 'sent' : outcome.result === 'retry' ? 'retried' : 'failed']++;
      // Recorded before this lane sends again: a worker that dies re-sends (after the lease) only what was in
      // flight, at most `concurrency` messages, each with its Message-ID (writing per 100 re-sent up to 100 more).
      await record(outcome);
    });
    options.onPage?.();
    if (page.length < pageSize) break;
  }
  return run;
}

async function sendOne(notifier: Notifier, d: ClaimedDelivery, now: Date, appUrl: string | undefined, allowHosts: readonly string[]): Promise<DeliveryOutcome> {
  const { id, attempts } = d;
  const target = toTarget(d);
  if (!target) return { id, attempts, result: 'failed', error: 'the target was removed' };
  // robots and webhooks: public addresses only, resolved once and connected to as checked (libs/notify http.ts)
  return settle(d, now, () => notifier.send(target, toMessage(d, appUrl), { publicOnly: { allowHosts } }));
}

/** Runs one send and turns how it went into the delivery's outcome (sent; failed when permanent or the last attempt; else retried). */
async function settle(d: ClaimedDelivery, now: Date, send: () => Promise<void>): Promise<DeliveryOutcome> {
  const { id, attempts } = d;
  try {
    await send();
    return { id, attempts, result: 'sent' };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    const permanent = err instanceof DeliveryFailure && err.permanent;
    if (permanent || attempts >= MAX_DELIVERY_ATTEMPTS) return { id, attempts, result: 'failed', error };
    return { id, attempts, result: 'retry', error, at: new Date(now.getTime() + retryDelayMs(attempts)) };
  }
}

function toTarget(d: ClaimedDelivery): Target | null {
  if (d.channel === 'email') return { channel: 'email', to: d.email, name: d.userName };
  if (d.channel === 'wecom_app') return null;
  if (!d.url) return null;
  if (d.channel === 'wecom') return { channel: 'wecom', url: d.url };
  if (d.channel === 'webhook') return d.secret ? { channel: 'webhook', url: d.url, secret: d.secret } : null;
  return { channel: d.channel, url: d.url, secret: d.secret ?? undefined };
}

function toMessage(d: ClaimedDelivery, appUrl?: string): Message {
  return {
    id: `reminder-delivery-${d.id}`,
    kind: d.kind,
    locale: d.locale,
    title: d.title,
    body: d.body,
    url: appUrl && d.link ? `${appUrl.replace(/\/$/, '')}${d.link}` : undefined,
    data: { ...d.data, notificationId: d.notificationId },
  };
}

/**
 * Writes items as they come, together: one write at a time, taking everything that arrived while the previous
 * one ran. Each caller resolves once its item is written (or rejects with the write's error).
 */
function groupCommit<T>(write: (items: T[]) => Promise<void>): (item: T) => Promise<void> {
  const queue: T[] = [];
  let writing: Promise<void> | undefined;
  return (item) => {
    queue.push(item);
    // The loop's last check of the queue and its reset of `writing` happen in one step, so an item pushed
    // meanwhile is either taken by this loop or starts the next one.
    writing ??= (async () => {
      try {
        while (queue.length) await write(queue.splice(0));
      } finally {
        writing = undefined;
      }
    })();
    return writing;
  };
}

/** Runs `work` over the items with at most `limit` at once. */
async function inPool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
