import { SecretBox } from './secret-box';
import { type Credentials, type RetryPolicy, type WecomClient, wecomClients } from './client';

/** The part of a database handle this module needs (a TypeORM DataSource or EntityManager). */
export interface SqlRunner {
  query(sql: string, params?: unknown[]): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A tenant's WeCom connection with its secrets opened. */
export interface WecomConnection {
  tenantId: string;
  corpId: string;
  agentId: string;
  contactSecret: string;
  agentSecret: string;
  callbackToken: string;
  encodingAesKey: string;
}

export interface WecomSettings {
  /** WECOM_SECRET_KEYS: the keys connections' secrets are sealed with */
  secretKeys: { id: string; secret: string }[];
  /** WECOM_API_BASE */
  apiBase: string;
  retry?: RetryPolicy;
}

/**
 * What a process needs to act for tenants in WeCom: their connections opened with the sealing keys, and clients
 * sharing one token cache per process (the customer-contact secret for contacts, tags and groups; the app's
 * secret for app messages and OAuth).
 */
export class WecomAccess {
  readonly box: SecretBox;
  private readonly clients: (creds: Credentials) => WecomClient;

  constructor(settings: WecomSettings) {
    this.box = new SecretBox(settings.secretKeys);
    this.clients = wecomClients(settings.apiBase, settings.retry);
  }

  /** The tenant's connection, or null when it has none. */
  async connection(db: SqlRunner, tenantId: string): Promise<WecomConnection | null> {
    const [row] = await db.query(
      `SELECT corp_id, agent_id, contact_secret, agent_secret, callback_token, encoding_aes_key FROM wecom_connections WHERE tenant_id = $1`,
      [tenantId],
    );
    if (!row) return null;
    return {
      tenantId, corpId: row.corp_id, agentId: row.agent_id,
      contactSecret: this.box.open(row.contact_secret), agentSecret: this.box.open(row.agent_secret),
      callbackToken: this.box.open(row.callback_token), encodingAesKey: this.box.open(row.encoding_aes_key),
    };
  }

  /** Client for customer contacts, corp tags and customer groups. */
  contacts(c: WecomConnection): WecomClient {
    return this.clients({ corpId: c.corpId, secret: c.contactSecret });
  }

  /** Client for the self-built app: app messages, OAuth. */
  app(c: WecomConnection): WecomClient {
    return this.clients({ corpId: c.corpId, secret: c.agentSecret });
  }
}
