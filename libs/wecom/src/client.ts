import { createHash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** Every answer of WeCom's server API carries errcode; 0 is success. */
export interface WecomAnswer {
  errcode: number;
  errmsg?: string;
  [field: string]: unknown;
}

/** WeCom answered, and refused. `retryable` when the refusal is a rate limit or a busy system. */
export class WecomApiError extends Error {
  constructor(readonly errcode: number, readonly errmsg: string, readonly path: string) {
    super(`WeCom ${path} answered errcode ${errcode}: ${errmsg}`);
  }

  get retryable(): boolean {
    return RATE_LIMITED.has(this.errcode);
  }
}

/** WeCom could not be reached or answered something that is not its API (always worth another try later). */
export class WecomUnreachable extends Error {}

/** The token is expired or not (any longer) valid: take a new one and repeat the call, once. */
const TOKEN_STALE = new Set([40014, 42001]);
/** System busy (-1), call frequency (45009) and concurrency (45033) limits: wait and repeat. */
const RATE_LIMITED = new Set([-1, 45009, 45033]);
/** A token is renewed this long before WeCom says it expires, so a call never starts with a dying one. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

export interface Credentials {
  corpId: string;
  /** The secret the token is for: the customer-contact secret, or a self-built app's secret */
  secret: string;
}

export interface RetryPolicy {
  /** calls made in all when WeCom answers a rate limit (the first included) */
  attempts: number;
  /** first wait; doubled each time, with jitter */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 250, maxDelayMs: 4000 };
const CALL_TIMEOUT_MS = 10_000;

/**
 * One HTTP exchange with WeCom's server API; network failures and non-API answers are WecomUnreachable. JSON calls go
 * through Node's http client on kept-alive connections (a callback's event costs one call: fetch took about three
 * times the CPU per call); a form (a media upload) goes through fetch, which writes the multipart body.
 */
async function exchange(base: string, path: string, query: Record<string, string>, body?: unknown): Promise<WecomAnswer> {
  const url = `${base}${path}?${new URLSearchParams(query)}`;
  if (body instanceof FormData) return exchangeForm(url, path, body);
  let status: number;
  let text: string;
  try {
    ({ status, text } = await jsonCall(url, body === undefined ? undefined : JSON.stringify(body)));
  } catch (err) {
    throw new WecomUnreachable(`WeCom could not be reached (${path}): ${(err as Error).message}`);
  }
  return answerOf(status, text, path);
}

async function exchangeForm(url: string, path: string, form: FormData): Promise<WecomAnswer> {
  let res: Response;
  let text: string;
  try {
    // multipart/form-data with its boundary, set by fetch
    res = await fetch(url, { method: 'POST', body: form, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
    text = await res.text();
  } catch (err) {
    throw new WecomUnreachable(`WeCom could not be reached (${path}): ${(err as Error).message}`);
  }
  return answerOf(res.status, text, path);
}

function answerOf(status: number, text: string, path: string): WecomAnswer {
  let answer: WecomAnswer | null = null;
  try {
    answer = JSON.parse(text) as WecomAnswer | null;
  } catch {
    answer = null;
  }
  if (status < 200 || status > 299 || !answer || typeof answer.errcode !== 'number') throw new WecomUnreachable(`WeCom answered ${status} without its JSON (${path})`);
  return answer;
}

/**
 * Kept-alive connections to WeCom, per process. An idle one is closed after 4 s, before a server's usual keep-alive
 * limit (Node's own is 5 s) closes it under a request.
 */
const agents = { http: new HttpAgent({ keepAlive: true, timeout: 4000 }), https: new HttpsAgent({ keepAlive: true, timeout: 4000 }) };

/**
 * A GET (no body) or a JSON POST; the status and the whole answer as text, within CALL_TIMEOUT_MS. A GET whose kept-alive
 * connection the server had closed meanwhile is sent again once, on a new one.
 */
async function jsonCall(url: string, json: string | undefined): Promise<{ status: number; text: string }> {
  try {
    return await jsonCallOnce(url, json);
  } catch (err) {
    if (json !== undefined || !(err as { reusedSocket?: boolean }).reusedSocket || (err as NodeJS.ErrnoException).code !== 'ECONNRESET') throw err;
    return jsonCallOnce(url, json);
  }
}

function jsonCallOnce(url: string, json: string | undefined): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const https = url.startsWith('https:');
    const headers: Record<string, string | number> = json === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) };
    const req = (https ? httpsRequest : httpRequest)(url, { method: json === undefined ? 'GET' : 'POST', headers, agent: https ? agents.https : agents.http }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    // the whole exchange, connection to the answer's last byte, as fetch's AbortSignal.timeout did
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(Object.assign(err, { reusedSocket: req.reusedSocket }));
    });
    req.end(json);
  });
}

/** A fresh access token for a corporation and secret (gettoken); a refusal is a WecomApiError. */
export async function requestToken(base: string, creds: Credentials): Promise<{ token: string; expiresInS: number }> {
  const answer = await exchange(base, '/cgi-bin/gettoken', { corpid: creds.corpId, corpsecret: creds.secret });
  if (answer.errcode !== 0 || typeof answer.access_token !== 'string') {
    throw new WecomApiError(answer.errcode, answer.errmsg ?? 'no message', '/cgi-bin/gettoken');
  }
  return { token: answer.access_token, expiresInS: Number(answer.expires_in ?? 7200) };
}

interface CachedToken {
  token: string;
  renewAt: number;
}

/**
 * Access tokens per corporation and secret, in this process. WeCom limits gettoken calls and a token lives two
 * hours, so concurrent callers share one request (no stampede) and one renewal: a caller that saw a token fail
 * renews only if no one has renewed it since.
 */
export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<string>>();

  constructor(private readonly fetchToken: (creds: Credentials) => Promise<{ token: string; expiresInS: number }>, private readonly now = Date.now) {}

  async get(creds: Credentials): Promise<string> {
    const key = cacheKey(creds);
    const cached = this.tokens.get(key);
    if (cached && cached.renewAt > this.now()) return cached.token;
    return this.renew(key, creds);
  }

  /** A caller's token was refused as stale: renew once, unless someone already did. */
  async replace(creds: Credentials, stale: string): Promise<string> {
    const key = cacheKey(creds);
    const cached = this.tokens.get(key);
    if (cached && cached.token !== stale && cached.renewAt > this.now()) return cached.token;
    if (cached?.token === stale) this.tokens.delete(key);
    return this.renew(key, creds);
  }

  private renew(key: string, creds: Credentials): Promise<string> {
    let request = this.pending.get(key);
    if (!request) {
      request = this.fetchToken(creds)
        .then(({ token, expiresInS }) => {
          this.tokens.set(key, { token, renewAt: this.now() + Math.max(0, expiresInS * 1000 - EXPIRY_MARGIN_MS) });
          return token;
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, request);
    }
    return request;
  }
}

// The secret is hashed so that the map's keys never hold it in the clear (heap dumps, debug logs).
const cacheKey = (creds: Credentials) => `${creds.corpId}:${createHash('sha256').update(creds.secret).digest('base64url')}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls WeCom's server API for one corporation and secret against a base URL (WeCom's own, or a local stand-in
 * in tests): adds the cached access token, renews it once when WeCom says it is stale (40014, 42001), and waits
 * and repeats on rate-limit answers with exponential backoff. Other refusals throw WecomApiError at once.
 */
export class WecomClient {
  constructor(
    private readonly base: string,
    private readonly creds: Credentials,
    private readonly tokens: TokenCache,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {}

  get<T extends WecomAnswer>(path: string, query: Record<string, string> = {}): Promise<T> {
    return this.call<T>(path, query);
  }

  post<T extends WecomAnswer>(path: string, body: unknown, query: Record<string, string> = {}): Promise<T> {
    return this.call<T>(path, query, body);
  }

  /** A multipart upload (media/upload, media/upload_attachment): the file in the form field `media`, as WeCom's reference has it. */
  upload<T extends WecomAnswer>(path: string, query: Record<string, string>, file: { name: string; contentType: string; bytes: Buffer }): Promise<T> {
    const form = new FormData();
    form.append('media', new Blob([new Uint8Array(file.bytes)], { type: file.contentType }), file.name);
    return this.call<T>(path, query, form);
  }

  private async call<T extends WecomAnswer>(path: string, query: Record<string, string>, body?: unknown): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const answer = await this.withToken(path, query, body);
      if (answer.errcode === 0) return answer as T;
      const refusal = new WecomApiError(answer.errcode, answer.errmsg ?? 'no message', path);
      if (!refusal.retryable || attempt >= this.retry.attempts) throw refusal;
      await sleep(this.backoff(attempt));
    }
  }

  private async withToken(path: string, query: Record<string, string>, body?: unknown): Promise<WecomAnswer> {
    const token = await this.tokens.get(this.creds);
    const answer = await exchange(this.base, path, { ...query, access_token: token }, body);
    if (!TOKEN_STALE.has(answer.errcode)) return answer;
    const renewed = await this.tokens.replace(this.creds, token);
    return exchange(this.base, path, { ...query, access_token: renewed }, body);
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }
}

/** Clients of one process share a token cache, so every caller of a corporation sees the same token. */
export function wecomClients(base: string, retry: RetryPolicy = DEFAULT_RETRY): (creds: Credentials) => WecomClient {
  const tokens = new TokenCache((creds) => requestToken(base, creds));
  return (creds) => new WecomClient(base, creds, tokens, retry);
}
