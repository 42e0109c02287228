import { getSignature, encrypt } from '@wecom/crypto';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One corporation as the stand-in knows it: its secrets and its app. */
export interface WecomCorp {
  corpId: string;
  contactSecret: string;
  agentSecret: string;
  agentId: string;
  callbackToken: string;
  encodingAesKey: string;
}

/** A corporation with fresh random secrets, as WeCom's admin console would generate them. */
export function newCorp(): WecomCorp {
  const alnum = () => randomBytes(24).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 32);
  return {
    corpId: `ww${randomBytes(8).toString('hex')}`,
    contactSecret: randomBytes(32).toString('base64url'),
    agentSecret: randomBytes(32).toString('base64url'),
    agentId: String(1000000 + Math.floor(Math.random() * 1000)),
    callbackToken: alnum(),
    encodingAesKey: randomBytes(32).toString('base64').slice(0, 43),
  };
}

/** What a route of the stand-in is given: the corporation and secret its token was issued for, the query and the JSON body. */
export interface WecomCall {
  corp: WecomCorp;
  /** which of the corporation's secrets the token came from */
  secret: 'contact' | 'agent';
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** the request as sent: a multipart upload (media/upload) is read from these */
  raw: Buffer;
  contentType: string;
}

export type WecomRoute = (call: WecomCall) => Record<string, unknown> | Promise<Record<string, unknown>>;

/** A page the stand-in serves without a token (WeCom's OAuth authorize page): status, headers, body. */
export type WecomPage = (url: URL) => { status: number; headers: Record<string, string>; body: string };

/** A token as the stand-in issued it. */
interface Issued {
  corpId: string;
  secret: 'contact' | 'agent';
  expired: boolean;
}

/**
 * A local stand-in for WeCom, following its published server API reference: `/cgi-bin/gettoken` (40013 invalid
 * corpid, 40001 invalid secret), tokens that expire on demand (42001) or are unknown (40014), `/cgi-bin/agent/get`
 * (40056 invalid agentid), and a route table that other test modules extend with the APIs they exercise
 * (`route(path, handler)`); `failNext` makes a route answer an errcode (a rate limit, say) a given number of
 * times. Also WeCom's side of the callback: requests encrypted and signed with WeCom's official @wecom/crypto,
 * so our decryption is held to WeCom's own code.
 */
export class WecomServer {
  readonly corps = new Map<string, WecomCorp>();
  /** calls per path, for tests that count (tokens requested, pages fetched) */
  readonly calls = new Map<string, number>();
  /** every call with a valid token, in order: path and JSON body (tests assert what the product sent) */
  readonly log: { path: string; corpId: string; body: Record<string, unknown> }[] = [];
  /** images served at `/qr/<name>.png` (a contact way's QR code, as WeCom hosts it) */
  readonly images = new Map<string, Buffer>();
  /**
   * WeCom's image host failing for an image (by name): `error` answers 502, `huge` sends 3 MB of PNG-looking bytes
   * without a Content-Length, `html` answers an HTML page (a login or error page instead of the image).
   */
  readonly imageTrouble = new Map<string, 'error' | 'huge' | 'html'>();
  private readonly drops = new Map<string, number>();
  private readonly tokens = new Map<string, Issued>();
  private readonly routes = new Map<string, WecomRoute>();
  private readonly pages = new Map<string, WecomPage>();
  private readonly failures = new Map<string, { errcode: number; times: number }>();
  private readonly server: Server;
  baseUrl = '';

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const url = new URL(req.url ?? '/', 'http://local');
        const page = this.pages.get(url.pathname);
        if (page) {
          const { status, headers, body } = page(url);
          res.writeHead(status, headers);
          res.end(body);
          return;
        }
        let body: Record<string, unknown> = {};
        try {
          body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
        } catch {
          body = {};
        }
        const trouble = url.pathname.startsWith('/qr/') ? this.imageTrouble.get(url.pathname.slice(4)) : undefined;
        if (trouble === 'error') {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end('bad gateway');
          return;
        }
        if (trouble === 'html') {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end('<!doctype html><title>请登录</title>');
          return;
        }
        if (trouble === 'huge') {
          res.writeHead(200, { 'content-type': 'image/png' }); // chunked: no length announced
          const chunk = Buffer.alloc(64 * 1024, 0x42);
          for (let i = 0; i < 48 && !res.destroyed; i++) res.write(chunk);
          res.end();
          return;
        }
        const dropping = this.drops.get(url.pathname) ?? 0;
        if (dropping > 0) {
          // WeCom out of reach: the connection closes without an answer
          this.drops.set(url.pathname, dropping - 1);
          req.socket.destroy();
          return;
        }
        const image = url.pathname.startsWith('/qr/') ? this.images.get(url.pathname.slice(4)) : undefined;
        if (image) {
          res.writeHead(200, { 'content-type': 'image/png', 'content-length': image.length });
          res.end(image);
          return;
        }
        const answer = await this.answer(url, body, Buffer.concat(chunks), String(req.headers['content-type'] ?? ''));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
    });
    this.route('/cgi-bin/agent/get', ({ corp, secret, query }) =>
      secret !== 'agent' || query.get('agentid') !== corp.agentId
        ? { errcode: 40056, errmsg: 'invalid agentid' }
        : { errcode: 0, errmsg: 'ok', agentid: Number(corp.agentId), name: 'SOP 提醒' });
  }

  static async start(): Promise<WecomServer> {
    const s = new WecomServer();
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    s.baseUrl = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
    return s;
  }

  add(corp: WecomCorp): WecomCorp {
    this.corps.set(corp.corpId, corp);
    return corp;
  }

  /** Serves an API that needs an access token. */
  route(path: string, handler: WecomRoute): this {
    this.routes.set(path, handler);
    return this;
  }

  /** The handler serving `path` now (a test wraps it for a while, then puts it back with `route`). */
  routeOf(path: string): WecomRoute | undefined {
    return this.routes.get(path);
  }

  /** Serves a page without a token (WeCom's OAuth authorize page). */
  page(path: string, handler: WecomPage): this {
    this.pages.set(path, handler);
    return this;
  }

  /** The next `times` calls of `path` (with a valid token) answer `errcode`, as WeCom does when a limit is hit. */
  failNext(path: string, errcode: number, times = 1): void {
    this.failures.set(path, { errcode, times });
  }

  /** The next `times` requests to `path` get no answer at all (the connection is closed): WeCom out of reach. */
  dropNext(path: string, times = 1): void {
    this.drops.set(path, times);
  }

  /** Forgets the call counts and any failures still to come (between tests). */
  reset(): void {
    this.calls.clear();
    this.log.length = 0;
    this.failures.clear();
    this.drops.clear();
    this.imageTrouble.clear();
  }

  /** Every token issued so far expires now (WeCom answers 42001 until a new one is taken). */
  expireTokens(): void {
    for (const issued of this.tokens.values()) issued.expired = true;
  }

  private answer(url: URL, body: Record<string, unknown>, raw: Buffer, contentType: string): Record<string, unknown> | Promise<Record<string, unknown>> {
    this.calls.set(url.pathname, (this.calls.get(url.pathname) ?? 0) + 1);
    const q = url.searchParams;
    if (url.pathname === '/cgi-bin/gettoken') return this.issue(q);
    const route = this.routes.get(url.pathname);
    if (!route) return { errcode: 404, errmsg: `no such API ${url.pathname}` };
    const issued = this.tokens.get(q.get('access_token') ?? '');
    if (!issued) return { errcode: 40014, errmsg: 'invalid access_token' };
    if (issued.expired) return { errcode: 42001, errmsg: 'access_token expired' };
    const failure = this.failures.get(url.pathname);
    if (failure && failure.times > 0) {
      failure.times--;
      return { errcode: failure.errcode, errmsg: 'api freq out of limit' };
    }
    this.log.push({ path: url.pathname, corpId: issued.corpId, body });
    return route({ corp: this.corps.get(issued.corpId)!, secret: issued.secret, query: q, body, raw, contentType });
  }

  private issue(q: URLSearchParams): Record<string, unknown> {
    const corp = this.corps.get(q.get('corpid') ?? '');
    if (!corp) return { errcode: 40013, errmsg: 'invalid corpid' };
    const given = q.get('corpsecret');
    const secret = given === corp.contactSecret ? 'contact' : given === corp.agentSecret ? 'agent' : null;
    if (!secret) return { errcode: 40001, errmsg: 'invalid credential' };
    const token = randomBytes(16).toString('hex');
    this.tokens.set(token, { corpId: corp.corpId, secret, expired: false });
    return { errcode: 0, errmsg: 'ok', access_token: token, expires_in: 7200 };
  }

  /** The query and body WeCom sends to a callback URL for this message (encrypted, signed). */
  static delivery(corp: WecomCorp, message: string, { timestamp = Math.floor(Date.now() / 1000), nonce = randomBytes(6).toString('hex') } = {}) {
    const encrypted = encrypt(corp.encodingAesKey, message, corp.corpId);
    const query = new URLSearchParams({ msg_signature: getSignature(corp.callbackToken, timestamp, nonce, encrypted), timestamp: String(timestamp), nonce });
    const body = `<xml><ToUserName><![CDATA[${corp.corpId}]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt><AgentID><![CDATA[${corp.agentId}]]></AgentID></xml>`;
    return { query, body, encrypted };
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * A local WeCom for the test file, started before the stack that `env` configures (pass the same object to
 * useStack or useConsoleStack after this call): `env.WECOM_API_BASE` and `env.WECOM_OAUTH_BASE` point the API at it.
 */
export function useWecomServer(env: Record<string, string>): () => WecomServer {
  let server: WecomServer;
  beforeAll(async () => {
    server = await WecomServer.start();
    env.WECOM_API_BASE = server.baseUrl;
    env.WECOM_OAUTH_BASE = server.baseUrl; // its authorize page (WecomApp), WeCom's open.weixin.qq.com
  });
  afterAll(() => server?.close());
  return () => server;
}
