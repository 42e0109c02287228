import { randomBytes } from 'node:crypto';
import type { WecomCorp, WecomServer } from './wecom-server';

/** One app message as the stand-in received it (`POST /cgi-bin/message/send`). */
export interface SentAppMessage {
  corpId: string;
  agentid: number;
  touser: string;
  msgtype: string;
  textcard: { title: string; description: string; url: string; btntxt?: string };
  msgid: string;
}

/** Who is signed in to WeCom on the device that opens the authorize page: a member, or a WeChat user outside the corporation. */
export type WecomViewer = { userid: string } | { openid: string };

/** A code lives 5 minutes and is good once, as WeCom's reference says. */
const CODE_TTL_MS = 5 * 60_000;

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The self-built app's side of the local WeCom, following WeCom's published reference (应用消息 / 网页授权登录):
 *
 * - `POST /cgi-bin/message/send` (the app's token only; 48002 otherwise): `agentid` must be the app's (301002
 *   otherwise), `msgtype` textcard with title ≤ 128 bytes, description ≤ 512 bytes and a url (40058 / 45002
 *   otherwise), `touser` one or more member ids joined by `|`. A member outside the app's visible range (`hide`) is
 *   listed in `invaliduser`, errcode 0; when no recipient is a member at all, 81013. Accepted messages are recorded
 *   in `sent` for the tests to read.
 * - `GET /connect/oauth2/authorize` (appid, redirect_uri, response_type=code, scope, state, agentid): a page that
 *   shows who is signed in to WeCom (`viewer`) and links to redirect_uri with a fresh code and the state, as WeCom
 *   does after its (silent, for snsapi_base) consent; a wrong appid, agentid or response_type, or a redirect_uri
 *   outside the app's trusted domain (`trustedHost`), is WeCom's error page instead.
 * - `GET /cgi-bin/auth/getuserinfo` (the app's token, code): `userid` for a member, `openid` for anyone else;
 *   40029 for a code that is unknown, expired or used already (each code is good once).
 */
export class WecomApp {
  readonly sent: SentAppMessage[] = [];
  private readonly members = new Map<string, Set<string>>();
  private readonly hidden = new Map<string, Set<string>>();
  private readonly viewers = new Map<string, WecomViewer>();
  private readonly trusted = new Map<string, string>();
  private readonly codes = new Map<string, { corpId: string; viewer: WecomViewer; until: number; used: boolean }>();

  constructor(private readonly server: WecomServer) {
    server.route('/cgi-bin/message/send', ({ corp, secret, body }) => this.send(corp, secret, body));
    server.route('/cgi-bin/auth/getuserinfo', ({ corp, secret, query }) => this.userInfo(corp, secret, query.get('code') ?? ''));
    server.page('/connect/oauth2/authorize', (url) => this.authorize(url));
  }

  /** The corporation's members the app can reach. */
  addMembers(corp: WecomCorp, ...userids: string[]): this {
    const set = this.members.get(corp.corpId) ?? new Set();
    userids.forEach((u) => set.add(u));
    this.members.set(corp.corpId, set);
    return this;
  }

  /** A member outside the app's visible range (可见范围): WeCom lists them in invaliduser. */
  hide(corp: WecomCorp, userid: string): this {
    this.hidden.set(corp.corpId, (this.hidden.get(corp.corpId) ?? new Set()).add(userid));
    return this;
  }

  /** Who the authorize page finds signed in to WeCom for this corporation. */
  viewer(corp: WecomCorp, viewer: WecomViewer): this {
    this.viewers.set(corp.corpId, viewer);
    return this;
  }

  /** The app's trusted domain (可信域名): redirect_uri must be on this host. */
  trustedHost(corp: WecomCorp, host: string): this {
    this.trusted.set(corp.corpId, host);
    return this;
  }

  /** A code for this viewer, as the authorize page would give (tests that skip the page). */
  issueCode(corp: WecomCorp, viewer: WecomViewer): string {
    const code = randomBytes(16).toString('hex');
    this.codes.set(code, { corpId: corp.corpId, viewer, until: Date.now() + CODE_TTL_MS, used: false });
    return code;
  }

  /** Makes a code older than WeCom keeps it. */
  expireCode(code: string): void {
    const c = this.codes.get(code);
    if (c) c.until = 0;
  }

  messagesTo(userid: string): SentAppMessage[] {
    return this.sent.filter((m) => m.touser.split('|').includes(userid));
  }

  private send(corp: WecomCorp, secret: string, body: Record<string, unknown>): Record<string, unknown> {
    if (secret !== 'agent') return { errcode: 48002, errmsg: 'api forbidden' };
    if (Number(body.agentid) !== Number(corp.agentId)) return { errcode: 301002, errmsg: 'not allow operate another agent with this accesstoken.' };
    if (body.msgtype !== 'textcard') return { errcode: 40008, errmsg: 'invalid message type' };
    const card = body.textcard as SentAppMessage['textcard'] | undefined;
    if (!card || typeof card.title !== 'string' || typeof card.description !== 'string' || typeof card.url !== 'string' || !card.title || !card.description || !card.url) {
      return { errcode: 40058, errmsg: 'textcard needs title, description and url' };
    }
    if (Buffer.byteLength(card.title) > 128 || Buffer.byteLength(card.description) > 512) return { errcode: 45002, errmsg: 'content size out of limit' };
    if (card.btntxt !== undefined && [...card.btntxt].length > 4) return { errcode: 40058, errmsg: 'btntxt exceed 4 characters' };
    if (typeof body.touser !== 'string' || !body.touser) return { errcode: 40058, errmsg: 'touser, toparty or totag is needed' };
    const members = this.members.get(corp.corpId) ?? new Set<string>();
    const hidden = this.hidden.get(corp.corpId) ?? new Set<string>();
    const to = body.touser.split('|');
    const valid = to.filter((u) => members.has(u) && !hidden.has(u));
    const invalid = to.filter((u) => !valid.includes(u));
    if (!to.some((u) => members.has(u))) return { errcode: 81013, errmsg: 'user & party & tag all invalid' };
    const msgid = randomBytes(12).toString('base64url');
    if (valid.length) this.sent.push({ corpId: corp.corpId, agentid: Number(body.agentid), touser: valid.join('|'), msgtype: 'textcard', textcard: card, msgid });
    return { errcode: 0, errmsg: 'ok', invaliduser: invalid.join('|'), invalidparty: '', invalidtag: '', unlicenseduser: '', msgid, response_code: '' };
  }

  private userInfo(corp: WecomCorp, secret: string, code: string): Record<string, unknown> {
    if (secret !== 'agent') return { errcode: 48002, errmsg: 'api forbidden' };
    const issued = this.codes.get(code);
    if (!issued || issued.corpId !== corp.corpId || issued.used || issued.until < Date.now()) return { errcode: 40029, errmsg: 'invalid code' };
    issued.used = true;
    return 'userid' in issued.viewer
      ? { errcode: 0, errmsg: 'ok', userid: issued.viewer.userid, user_ticket: randomBytes(8).toString('hex'), expires_in: 1800 }
      : { errcode: 0, errmsg: 'ok', openid: issued.viewer.openid };
  }

  private authorize(url: URL): { status: number; headers: Record<string, string>; body: string } {
    const q = url.searchParams;
    const page = (title: string, inner: string, status = 200) => ({
      status, headers: { 'content-type': 'text/html; charset=utf-8' },
      body: `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1>${inner}</body></html>`,
    });
    const refuse = (errcode: number, message: string) => page('企业微信 · 授权失败', `<p id="wecom-error">errcode ${errcode}: ${escape(message)}</p>`, 400);
    const corp = this.server.corps.get(q.get('appid') ?? '');
    if (!corp) return refuse(40013, 'invalid appid');
    if (q.has('agentid') && q.get('agentid') !== corp.agentId) return refuse(40056, 'invalid agentid');
    if (q.get('response_type') !== 'code') return refuse(40058, 'response_type must be code');
    if (!['snsapi_base', 'snsapi_privateinfo'].includes(q.get('scope') ?? '')) return refuse(40058, 'invalid scope');
    let redirect: URL;
    try {
      redirect = new URL(q.get('redirect_uri') ?? '');
    } catch {
      return refuse(40058, 'invalid redirect_uri');
    }
    const trusted = this.trusted.get(corp.corpId);
    if (trusted && redirect.host !== trusted) return refuse(50001, 'redirect_uri 需与应用的可信域名一致 (redirect_uri not in the trusted domain)');
    const viewer = this.viewers.get(corp.corpId);
    if (!viewer) return refuse(50002, 'no one is signed in to WeCom on this device');
    const code = this.issueCode(corp, viewer);
    redirect.searchParams.set('code', code);
    redirect.searchParams.set('state', q.get('state') ?? '');
    const who = 'userid' in viewer ? viewer.userid : `WeChat ${viewer.openid}`;
    return page('企业微信 · 授权登录', `<p>应用 ${escape(q.get('agentid') ?? '')} 请求获取你的身份：<strong id="wecom-viewer">${escape(who)}</strong></p><p><a id="wecom-continue" href="${escape(redirect.toString())}">允许 / Continue</a></p>`);
  }
}
