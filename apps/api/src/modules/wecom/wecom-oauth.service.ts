import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { UUID_PATTERN } from '@sop/domain';
import { INVALID_CODE, oauthIdentity, WecomAccess, WecomApiError, type WecomConnection } from '@sop/wecom';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { fail } from '../../common/errors.catalog';
import { CredentialsService } from '../auth/credentials.service';
import { WecomRepository } from './wecom.repository';
import { WECOM_ERRORS } from './wecom.errors';

/** A state lives as long as WeCom's code (5 minutes) and a little more for the page in between. */
const STATE_TTL_S = 10 * 60;
/** The cookie that binds a sign-in's state to the browser that started it (CSRF: a state alone proves nothing). */
export const OAUTH_COOKIE = 'sop_wecom_oauth';
export const OAUTH_COOKIE_PATH = '/api/wecom/oauth';

interface State {
  /** tenant */
  t: string;
  /** nonce, also in the browser's cookie */
  n: string;
  /** where to go once signed in (a path of the app) */
  p: string;
  /** expiry, seconds since the epoch */
  e: number;
}

/** Why a WeCom sign-in was refused: each has a page in Chinese and English (wecom-oauth.pages.ts). */
export type OAuthRefusal = 'not_connected' | 'state_invalid' | 'code_invalid' | 'not_member' | 'not_matched' | 'wecom_failed';

export class OAuthRefused extends Error {
  constructor(readonly reason: OAuthRefusal, detail: string) {
    super(detail);
  }
}

/** Only a path inside the app: never another origin (`//host`, `/\host`, `https:`), else the inbox. */
export function safeNext(next: unknown): string {
  // '#': the token rides in the fragment after `next`, and a second fragment would hide it
  if (typeof next !== 'string' || next.length > 500 || !/^\/(?![/\\])/.test(next) || /[\s\\#]/.test(next)) return '/inbox';
  return next;
}

/**
 * Sign-in inside WeCom (网页授权登录, snsapi_base): the app's card opens `start`, which sends the browser to WeCom's
 * authorize page with a signed, short-lived state (the tenant, where to go next, and a nonce also set as a cookie);
 * WeCom sends it back to `finish` with a single-use code, which WeCom turns into the member's user id with the app's
 * token; the member's matched user gets the same access token a password sign-in gives. Everything else (another
 * browser's or a forged or expired state, a used code, a WeChat user outside the corporation, a member matched to no
 * enabled user) is refused and no token is made.
 */
@Injectable()
export class WecomOAuthService {
  private readonly access: WecomAccess;
  private readonly stateKey: Buffer;
  private readonly oauthBase: string;
  private readonly log = new Logger(WecomOAuthService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource, @Inject(APP_CONFIG) config: AppConfig, private readonly credentials: CredentialsService,
    private readonly wecom: WecomRepository,
  ) {
    this.access = new WecomAccess(config.wecom);
    this.oauthBase = config.wecom.oauthBase;
    // a key for this one purpose, so a state is nothing anywhere else
    this.stateKey = createHmac('sha256', config.jwt.secret).update('wecom-oauth-state').digest();
  }

  /** WeCom's authorize URL for the tenant, and the nonce the browser must keep as a cookie. */
  async start(tenantId: string, next: unknown, callbackUrl: string): Promise<{ location: string; nonce: string }> {
    const connection = UUID_PATTERN.test(tenantId) ? await this.connection(tenantId) : null;
    // before WeCom is involved: the API's usual 404 (a card is only sent while the organization is connected)
    if (!connection) throw fail(WECOM_ERRORS.WECOM_NOT_CONNECTED);
    const nonce = randomBytes(18).toString('base64url');
    const state = this.sign({ t: tenantId, n: nonce, p: safeNext(next), e: Math.floor(Date.now() / 1000) + STATE_TTL_S });
    const query = new URLSearchParams({
      appid: connection.corpId, redirect_uri: callbackUrl, response_type: 'code', scope: 'snsapi_base', state, agentid: connection.agentId,
    });
    return { location: `${this.oauthBase}/connect/oauth2/authorize?${query}#wechat_redirect`, nonce };
  }

  /** The signed-in user's access token and where to go, or OAuthRefused. */
  async finish(code: unknown, rawState: unknown, cookieNonce: string | undefined): Promise<{ accessToken: string; next: string }> {
    const state = this.verify(rawState);
    if (!state || !cookieNonce || !equal(state.n, cookieNonce)) {
      throw new OAuthRefused('state_invalid', 'the state is forged, expired, or from another browser');
    }
    if (typeof code !== 'string' || !code || code.length > 512) throw new OAuthRefused('code_invalid', 'no code');
    const connection = await this.connection(state.t);
    if (!connection) throw new OAuthRefused('not_connected', `organization ${state.t} has no WeCom connection`);
    let identity;
    try {
      identity = await oauthIdentity(this.access.app(connection), code);
    } catch (err) {
      if (err instanceof WecomApiError && err.errcode === INVALID_CODE) throw new OAuthRefused('code_invalid', err.message);
      // another refusal (the app's secret changed, our address not among the trusted IPs) or WeCom out of reach
      this.log.warn(`WeCom sign-in: ${(err as Error).message}`);
      throw new OAuthRefused('wecom_failed', (err as Error).message);
    }
    if (!('userId' in identity)) throw new OAuthRefused('not_member', 'WeCom knows this person only as a WeChat user (openid), not a member');
    const user = await this.wecom.signInUser(state.t, identity.userId);
    if (!user) throw new OAuthRefused('not_matched', `member ${identity.userId} is matched to no enabled user`);
    return { accessToken: this.credentials.issueToken(user), next: state.p };
  }

  private async connection(tenantId: string): Promise<WecomConnection | null> {
    try {
      return await this.access.connection(this.db, tenantId);
    } catch (err) {
      // a connection sealed with a key no longer configured
      this.log.warn(`WeCom sign-in: the connection of ${tenantId} cannot be opened: ${(err as Error).message}`);
      return null;
    }
  }

  private sign(state: State): string {
    const body = Buffer.from(JSON.stringify(state)).toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  private verify(raw: unknown): State | null {
    if (typeof raw !== 'string' || raw.length > 2048) return null;
    const [body, mac] = raw.split('.');
    if (!body || !mac || !equal(mac, this.mac(body))) return null;
    try {
      const state = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as State;
      return typeof state.e === 'number' && state.e > Date.now() / 1000 && UUID_PATTERN.test(state.t) ? state : null;
    } catch {
      return null;
    }
  }

  private mac(body: string): string {
    return createHmac('sha256', this.stateKey).update(body).digest('base64url');
  }
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
