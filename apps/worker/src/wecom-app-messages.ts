import type { ClaimedDelivery, Queryable } from '@sop/engine';
import { DeliveryFailure } from '@sop/notify';
import { isFinalSendFailure, sendTextCard, type WecomAccess, type WecomConnection } from '@sop/wecom';

/** The card's button, in the recipient's language (WeCom shows at most 4 characters). */
const BUTTON = { zh: '查看任务', en: 'Open' } as const;

/**
 * The address a card opens: the API's WeCom sign-in for the tenant, which runs WeCom OAuth and then shows `next`
 * (the notification's link into the app) signed in, so the employee never types a password inside WeCom.
 */
export function wecomSignInUrl(appUrl: string, tenantId: string, next: string | null): string {
  return `${appUrl.replace(/\/$/, '')}/api/wecom/oauth/${tenantId}?${new URLSearchParams({ next: next ?? '/inbox' })}`;
}

/**
 * Sends reminders as the WeCom app's text cards (one sender per claimed page: a tenant's connection is opened once
 * per page). Throws DeliveryFailure, permanent when retrying cannot help: no connection, no matched member, a
 * member WeCom refuses (81013, or named in `invaliduser`). Token expiry and rate limits are retried by the client;
 * what is left after its retries is retried by the delivery's backoff.
 */
export class WecomAppSender {
  private readonly connections = new Map<string, Promise<WecomConnection | null>>();

  constructor(private readonly db: Queryable, private readonly wecom: WecomAccess | undefined, private readonly appUrl: string | undefined) {}

  async send(d: ClaimedDelivery): Promise<void> {
    if (!this.wecom) throw new DeliveryFailure('WeCom app messages need WECOM_SECRET_KEYS on the worker', true);
    if (!this.appUrl) throw new DeliveryFailure('WeCom app messages need APP_URL (the card opens the app there)', true);
    if (!d.wecomUserId) throw new DeliveryFailure('the user is no longer matched to a WeCom member', true);
    const connection = await this.connection(d.tenantId);
    if (!connection) throw new DeliveryFailure('the organization is no longer connected to WeCom', true);
    try {
      await sendTextCard(this.wecom.app(connection), connection.agentId, d.wecomUserId, {
        title: d.title, description: d.body, url: wecomSignInUrl(this.appUrl, d.tenantId, d.link), btntxt: BUTTON[d.locale],
      });
    } catch (err) {
      throw new DeliveryFailure((err as Error).message, isFinalSendFailure(err));
    }
  }

  private connection(tenantId: string): Promise<WecomConnection | null> {
    let found = this.connections.get(tenantId);
    if (!found) {
      found = this.wecom!.connection(this.db, tenantId);
      this.connections.set(tenantId, found);
    }
    return found;
  }
}
