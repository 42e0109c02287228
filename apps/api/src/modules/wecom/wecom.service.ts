import { Inject, Injectable, Logger } from '@nestjs/common';
import { XMLParser } from 'fast-xml-parser';
import { createHash, randomBytes } from 'node:crypto';
import { fail } from '../../common/errors.catalog';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import {
  callbackSignature, decryptCallback, requestToken, SecretBox, signatureMatches, WecomApiError, WecomDecryptError, wecomClients, WecomUnreachable,
  type Credentials, type WecomClient,
} from '@sop/wecom';
import { AppError, jsonTextProblems } from '@sop/domain';
import { workflowIds } from '@sop/temporal';
import { wakeSignal, wecomEventsWorkflow } from '@sop/workflows';
import { TemporalService } from '../../temporal/temporal.module';
import type { ConnectWecomDto, WecomConnectionDto } from './wecom.dto';
import { CallbackKeeper } from './callback-keeper';
import { envelopeCiphertext, flatMessage } from './callback-envelope';
import { RefreshingCache } from './refreshing-cache';
import { deleteContactWays, keepLeftovers } from './contact-way-leftovers';
import { WECOM_ERRORS } from './wecom.errors';
import { toRun } from './wecom-sync.service';
import { SECRET_COLUMN, type SecretField, WecomRepository } from './wecom.repository';

/**
 * What the console shows of a saved secret: the last 4 characters of a long app secret (to tell two apart),
 * nothing of the callback token or the EncodingAESKey (short, and the key's characters are the key).
 */
const hint = (field: SecretField, secret: string) =>
  (field === 'contactSecret' || field === 'agentSecret') && secret.length >= 16 ? `…${secret.slice(-4)}` : '••••';

/** Codes of WeCom's global error list that name the corporation id rather than a secret. */
const BAD_CORP_ID = new Set([40013]);

interface CallbackConnection { tenantId: string; corpId: string; token: string; aesKey: string }
/** How long an API process keeps a callback address's connection (see callbackConnection). */
const CALLBACK_CACHE_MS = 5000;
/** A connection in use this close to its expiry is read again in the background while it is still served. */
const CALLBACK_REFRESH_AHEAD_MS = 1000;

/** How far WeCom's callback timestamp may be from our clock, either way. */
export const CALLBACK_TOLERANCE_S = 300;
const SECRET_FIELDS = Object.keys(SECRET_COLUMN) as SecretField[];

export interface CallbackQuery {
  msg_signature?: string;
  timestamp?: string;
  nonce?: string;
  echostr?: string;
}

// WeCom's XML carries its text in CDATA: no entities to expand, and a DOCTYPE is refused before parsing.
const xml = new XMLParser({ parseTagValue: false, trimValues: true, processEntities: false });
const DECLARATION = /<!(DOCTYPE|ENTITY)/i;

/**
 * A tenant's WeCom connection (secrets sealed at rest, checked with WeCom on save, never returned) and the
 * callback WeCom calls: the URL handshake and event delivery, signature and freshness checked, decrypted, and
 * each event kept once (WeCom retries a delivery it saw no "success" for; a replayed request adds nothing).
 */
/** Signals to one tenant's events workflow are at least this far apart (a burst of callbacks wakes it a few times a second). */
const WAKE_SPACING_MS = 250;

@Injectable()
export class WecomService {
  private readonly box: SecretBox;
  private readonly apiBase: string;
  private readonly client: (creds: Credentials) => WecomClient;
  private readonly log = new Logger(WecomService.name);
  /** tenants whose events workflow is being signalled: 'again' when more events were kept meanwhile */
  private readonly waking = new Map<string, 'sending' | 'again'>();
  private readonly callbackConnections = new RefreshingCache<CallbackConnection>(
    (callbackId) => this.loadCallbackConnection(callbackId), CALLBACK_CACHE_MS, CALLBACK_REFRESH_AHEAD_MS);

  constructor(
    private readonly wecom: WecomRepository, @Inject(APP_CONFIG) config: AppConfig, private readonly temporal: TemporalService,
    private readonly keeper: CallbackKeeper,
  ) {
    this.box = new SecretBox(config.wecom.secretKeys);
    this.apiBase = config.wecom.apiBase;
    this.client = wecomClients(config.wecom.apiBase);
  }

  async connection(tenantId: string, origin: string): Promise<WecomConnectionDto> {
    const row = await this.wecom.connectionStatus(tenantId);
    if (!row) throw fail(WECOM_ERRORS.WECOM_NOT_CONNECTED);
    return {
      corpId: row.corp_id, agentId: row.agent_id, secrets: row.secrets_last4, callbackUrl: `${origin}/api/wecom/callback/${row.callback_id}`,
      connectedAt: row.connected_at, updatedAt: row.updated_at, lastCallbackAt: row.last_callback_at, lastSyncAt: row.last_sync_at,
      lastError: row.last_error, lastErrorAt: row.last_error_at, eventsLastDay: row.events_last_day,
      eventsWaiting: row.events_waiting, lastProcessedAt: row.last_processed_at, lastEventError: row.last_event_error,
      tagPushesWaiting: row.tag_pushes_waiting, tagPushesFailed: row.tag_pushes_failed, lastTagPushError: row.last_tag_push_error,
      tagPushesGivenUp: row.tag_pushes_given_up, lastTagPushGivenUp: row.last_tag_push_given_up,
      lastSync: await this.wecom.latestRun(tenantId).then((r) => (r ? toRun(r) : null)),
    };
  }

  /**
   * Saves the connection after WeCom accepts it: a token for the customer-contact secret and one for the app's
   * secret, and the app readable with it. A refusal is a 422 naming the field; nothing is saved. Secrets left
   * out keep their saved values (a first connection needs them all). Repeating a save changes nothing more.
   */
  async connect(tenantId: string, dto: ConnectWecomDto, origin: string): Promise<WecomConnectionDto> {
    const saved = await this.savedSecrets(tenantId, SECRET_FIELDS.filter((f) => !dto[f]));
    const secrets = {} as Record<SecretField, string>;
    const missing = SECRET_FIELDS.filter((f) => !(secrets[f] = dto[f] ?? saved?.[f] ?? ''));
    if (missing.length) {
      throw fail(WECOM_ERRORS.WECOM_CHECK_FAILED, 'A first connection needs every secret.', missing.map((path) => ({
        path, problem: saved && saved[path] === null ? 'was sealed with a key no longer in WECOM_SECRET_KEYS: enter it again' : 'is required to connect',
      })));
    }
    await this.check(dto.corpId, dto.agentId, secrets);
    const sealed = SECRET_FIELDS.map((f) => this.box.seal(secrets[f]));
    const last4 = Object.fromEntries(SECRET_FIELDS.map((f) => [f, hint(f, secrets[f])]));
    await this.wecom.saveConnection(tenantId, dto.corpId, dto.agentId, sealed, last4, randomBytes(24).toString('base64url'));
    this.forgetCallbackConnection(tenantId);
    return this.connection(tenantId, origin);
  }

  /**
   * A client for the tenant's customer-contact APIs (contact ways), or null when it has no connection.
   * Secrets sealed with a key no longer configured answer 503 WECOM_SECRETS_UNREADABLE.
   */
  async contactsClient(tenantId: string): Promise<WecomClient | null> {
    const row = await this.wecom.contactSecret(tenantId);
    if (!row) return null;
    const secret = this.openOrNull(row.contact_secret);
    if (secret === null) throw fail(WECOM_ERRORS.WECOM_SECRETS_UNREADABLE);
    return this.client({ corpId: row.corp_id, secret });
  }

  /**
   * Forgets the connection and its secrets (the events it delivered stay, as history). Repeatable. The channel
   * codes' WeCom "contact me" configurations are deleted in WeCom first (`del_contact_way`, with the leftovers
   * of earlier failures), since without the connection no one could delete them any more; one whose deletion
   * fails (WeCom out of reach, an errcode, unreadable secrets) is kept as its code's leftover (wecom_contact_way_leftovers),
   * shown on the code and retried or forgotten from there. Disconnecting itself never fails for WeCom.
   */
  async disconnect(tenantId: string): Promise<void> {
    const corpId = await this.wecom.corpId(tenantId);
    if (corpId !== null) {
      const [codes, kept] = await Promise.all([this.wecom.contactWayCodes(tenantId), this.wecom.leftovers(tenantId, corpId)]);
      const client = await this.contactsClient(tenantId).then(
        (c) => c ?? new Error('the organization has no WeCom connection'),
        (err: unknown) => { if (err instanceof AppError) return err; throw err; });
      const { failed } = await deleteContactWays(client, [...codes.map((c) => c.config_id), ...kept.map((k) => k.config_id)]);
      const tried = new Set(codes.map((c) => c.config_id));
      await this.wecom.transaction(async (m) => {
        // the codes as they are now, locked: one given a QR code since the read above was not tried, and is kept too
        const current = await this.wecom.contactWayCodes(tenantId, m);
        await keepLeftovers(m, tenantId, corpId, [
          ...current.filter((c) => !tried.has(c.config_id) || failed.has(c.config_id)).map((c) => ({
            sourceCodeId: c.id, configId: c.config_id, reason: 'disconnected' as const,
            error: failed.get(c.config_id) ?? 'made while WeCom was being disconnected: not deleted in WeCom',
          })),
          ...kept.filter((k) => failed.has(k.config_id)).map((k) => ({ sourceCodeId: k.source_code_id, configId: k.config_id, reason: k.reason, error: failed.get(k.config_id)! })),
        ]);
        await this.wecom.forgetConnection(m, tenantId, corpId, kept.filter((k) => !failed.has(k.config_id)).map((k) => k.config_id));
      });
    }
    this.forgetCallbackConnection(tenantId);
  }

  /** The corporation the tenant is connected to, or null. */
  async connectedCorp(tenantId: string): Promise<string | null> {
    return this.wecom.corpId(tenantId);
  }

  private forgetCallbackConnection(tenantId: string): void {
    this.callbackConnections.forget((connection) => connection.tenantId === tenantId);
  }

  /** Each secret gets a token from WeCom (no cache: this checks the secrets as typed), and the app reads itself. */
  private async check(corpId: string, agentId: string, secrets: Record<SecretField, string>): Promise<void> {
    let field: string = 'contactSecret';
    try {
      await requestToken(this.apiBase, { corpId, secret: secrets.contactSecret });
      field = 'agentSecret';
      await requestToken(this.apiBase, { corpId, secret: secrets.agentSecret });
      field = 'agentId';
      await this.client({ corpId, secret: secrets.agentSecret }).get('/cgi-bin/agent/get', { agentid: agentId });
    } catch (err) {
      if (err instanceof WecomApiError) {
        const path = BAD_CORP_ID.has(err.errcode) ? 'corpId' : field;
        throw fail(WECOM_ERRORS.WECOM_CHECK_FAILED, undefined, [{ path, problem: `WeCom refused it (errcode ${err.errcode}: ${err.errmsg})` }]);
      }
      if (err instanceof WecomUnreachable) throw fail(WECOM_ERRORS.WECOM_UNREACHABLE, err.message);
      throw err;
    }
  }

  /** The saved secrets asked for, opened; null for one sealed with a key no longer configured; null for all when none are saved. */
  private async savedSecrets(tenantId: string, fields: readonly SecretField[]): Promise<Record<SecretField, string | null> | null> {
    const sealed = await this.wecom.sealedSecrets(tenantId);
    if (!sealed) return null;
    return Object.fromEntries(fields.map((f) => [f, this.openOrNull(sealed[f])])) as Record<SecretField, string | null>;
  }

  private openOrNull(sealed: string): string | null {
    try {
      return this.box.open(sealed);
    } catch {
      return null;
    }
  }

  // ------------------------------------------------------------------ the callback

  /** The URL handshake: the decrypted echostr, when the signature is WeCom's. */
  async verifyUrl(callbackId: string, q: CallbackQuery): Promise<string> {
    const c = await this.callbackConnection(callbackId);
    return this.open(c, q, q.echostr).message;
  }

  /**
   * An event delivery: signature and timestamp checked, decrypted, kept once by its digest. Answered before
   * anything is applied (WeCom waits 5 s at most); the worker applies kept events from the table.
   */
  async receive(callbackId: string, q: CallbackQuery, body: string): Promise<{ duplicate: boolean }> {
    const c = await this.callbackConnection(callbackId);
    const encrypted = this.ciphertext(body);
    const { message } = this.open(c, q, encrypted);
    const event = this.message(message);
    const unstorable = jsonTextProblems(event);
    if (unstorable.length) throw fail(WECOM_ERRORS.WECOM_PAYLOAD_INVALID, `The event holds text that cannot be kept: ${unstorable.map((d) => `${d.path}: ${d.problem}`).join('; ')}.`);
    const digest = createHash('sha256').update(message).digest('hex');
    const kept = await this.keeper.keep({
      tenantId: c.tenantId, digest, event: String(event.Event ?? event.MsgType ?? 'unknown'),
      changeType: event.ChangeType ? String(event.ChangeType) : null, payload: JSON.stringify(event),
    });
    const duplicate = !kept;
    if (!duplicate) this.wake(c.tenantId);
    return { duplicate };
  }

  /**
   * Wakes (or starts) the tenant's events workflow without holding up WeCom's answer. At most one signal per
   * tenant is in flight, and the next follows WAKE_SPACING_MS after the last was sent at the soonest: events kept
   * meanwhile cause one more signal, so a burst of callbacks costs a few signals a second, not one each (each is a
   * workflow task for Temporal and the worker, and the batch running already picks up what was kept meanwhile).
   * An event committed before any signal is sent is always seen by a batch that starts after it. A signal that does not reach Temporal is logged; the next callback's signal
   * applies everything still waiting (the connection status shows what waits).
   */
  private wake(tenantId: string): void {
    if (this.waking.has(tenantId)) {
      this.waking.set(tenantId, 'again');
      return;
    }
    this.waking.set(tenantId, 'sending');
    const sentAt = Date.now();
    void this.temporal.within(5000, () => this.temporal.client.workflow.signalWithStart(wecomEventsWorkflow, {
      workflowId: workflowIds.wecomEvents(tenantId), taskQueue: this.temporal.taskQueue, args: [{ tenantId }], signal: wakeSignal, signalArgs: [],
    })).catch((err: Error) => this.log.warn(`WeCom events of tenant ${tenantId} wait: Temporal was not reached (${err.message})`))
      .finally(() => setTimeout(() => {
        const again = this.waking.get(tenantId) === 'again';
        this.waking.delete(tenantId);
        if (again) this.wake(tenantId);
      }, Math.max(0, WAKE_SPACING_MS - (Date.now() - sentAt))).unref());
  }

  /**
   * The connection behind a callback address, its secrets opened, kept for a few seconds (RefreshingCache: one
   * read at a time, read again ahead of expiry while in use): under a burst of callbacks each would otherwise read
   * the row and open two sealed secrets. A change or disconnect made through another API process is seen within
   * CALLBACK_CACHE_MS; through this one, at once.
   */
  private callbackConnection(callbackId: string): Promise<CallbackConnection> {
    return this.callbackConnections.get(callbackId);
  }

  private async loadCallbackConnection(callbackId: string): Promise<CallbackConnection> {
    const row = /^[A-Za-z0-9_-]{32}$/.test(callbackId) ? await this.wecom.byCallbackId(callbackId) : undefined;
    if (!row) throw fail(WECOM_ERRORS.WECOM_CALLBACK_NOT_FOUND);
    const [token, aesKey] = [this.openOrNull(row.callback_token), this.openOrNull(row.encoding_aes_key)];
    if (token === null || aesKey === null) throw fail(WECOM_ERRORS.WECOM_SECRETS_UNREADABLE);
    return { tenantId: row.tenant_id, corpId: row.corp_id, token, aesKey };
  }

  /** Signature, freshness, decryption and receive id (the corp id) of one ciphertext. */
  private open(c: { corpId: string; token: string; aesKey: string }, q: CallbackQuery, encrypted: string | undefined, now = Date.now()) {
    if (!q.msg_signature || !q.timestamp || !q.nonce || !encrypted) throw fail(WECOM_ERRORS.WECOM_PAYLOAD_INVALID, 'msg_signature, timestamp, nonce and the ciphertext are all required.');
    if (!/^\d{1,12}$/.test(q.timestamp) || Math.abs(now / 1000 - Number(q.timestamp)) > CALLBACK_TOLERANCE_S) throw fail(WECOM_ERRORS.WECOM_TIMESTAMP_STALE);
    if (!signatureMatches(callbackSignature(c.token, q.timestamp, q.nonce, encrypted), q.msg_signature)) throw fail(WECOM_ERRORS.WECOM_SIGNATURE_INVALID);
    try {
      const opened = decryptCallback(c.aesKey, encrypted);
      if (opened.receiveId !== c.corpId) throw new WecomDecryptError(`the receive id is not this corporation's (${c.corpId})`);
      return opened;
    } catch (err) {
      if (err instanceof WecomDecryptError) throw fail(WECOM_ERRORS.WECOM_PAYLOAD_INVALID, `The ciphertext is not for this connection: ${err.message}.`);
      throw err;
    }
  }

  /** The body's ciphertext: read from WeCom's plain envelope directly, any other body parsed whole. */
  private ciphertext(body: string): string | undefined {
    const direct = envelopeCiphertext(body);
    if (direct !== null) return direct;
    const value = this.parse(body).Encrypt;
    return typeof value === 'string' ? value : undefined;
  }

  /** The decrypted message: a flat one read directly (flatMessage, most events), any other parsed whole. */
  private message(text: string): Record<string, unknown> {
    return (!DECLARATION.test(text) && flatMessage(text)) || this.parse(text);
  }

  private parse(text: string): Record<string, unknown> {
    if (DECLARATION.test(text)) throw fail(WECOM_ERRORS.WECOM_PAYLOAD_INVALID, 'A DOCTYPE or entity declaration is not WeCom\'s XML.');
    let doc: unknown;
    try {
      doc = xml.parse(text);
    } catch {
      doc = null;
    }
    const root = (doc as { xml?: unknown } | null)?.xml;
    if (!root || typeof root !== 'object') throw fail(WECOM_ERRORS.WECOM_PAYLOAD_INVALID, 'The body is not XML with an <xml> root.');
    return root as Record<string, unknown>;
  }
}
