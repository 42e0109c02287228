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

/**
 * A local stand-in for WeCom: the server API calls the connection check makes (`/cgi-bin/gettoken`,
 * `/cgi-bin/agent/get`, answering with WeCom's documented error codes: 40013 invalid corpid, 40001 invalid
 * secret, 40014 invalid token, 40056 invalid agentid), and WeCom's side of the callback: requests encrypted
 * and signed with WeCom's official @wecom/crypto, so our decryption is held to WeCom's own code.
 */
export class WecomServer {
  readonly corps = new Map<string, WecomCorp>();
  private readonly tokens = new Map<string, { corpId: string; secret: string }>();
  private readonly server: Server;
  baseUrl = '';

  private constructor() {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://local');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(this.answer(url)));
    });
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

  private answer(url: URL): Record<string, unknown> {
    const q = url.searchParams;
    if (url.pathname === '/cgi-bin/gettoken') {
      const corp = this.corps.get(q.get('corpid') ?? '');
      if (!corp) return { errcode: 40013, errmsg: 'invalid corpid' };
      const secret = q.get('corpsecret');
      if (secret !== corp.contactSecret && secret !== corp.agentSecret) return { errcode: 40001, errmsg: 'invalid credential' };
      const token = randomBytes(16).toString('hex');
      this.tokens.set(token, { corpId: corp.corpId, secret });
      return { errcode: 0, errmsg: 'ok', access_token: token, expires_in: 7200 };
    }
    if (url.pathname === '/cgi-bin/agent/get') {
      const token = this.tokens.get(q.get('access_token') ?? '');
      if (!token) return { errcode: 40014, errmsg: 'invalid access_token' };
      const corp = this.corps.get(token.corpId)!;
      if (token.secret !== corp.agentSecret || q.get('agentid') !== corp.agentId) return { errcode: 40056, errmsg: 'invalid agentid' };
      return { errcode: 0, errmsg: 'ok', agentid: Number(corp.agentId), name: 'SOP 提醒' };
    }
    return { errcode: 404, errmsg: `no such API ${url.pathname}` };
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
 * useStack or useConsoleStack after this call): `env.WECOM_API_BASE` points the API at it.
 */
export function useWecomServer(env: Record<string, string>): () => WecomServer {
  let server: WecomServer;
  beforeAll(async () => {
    server = await WecomServer.start();
    env.WECOM_API_BASE = server.baseUrl;
  });
  afterAll(() => server?.close());
  return () => server;
}
