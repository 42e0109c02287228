import { Controller, Get, Inject, Param, Query, Req, Res } from '@nestjs/common';
import { ApiFoundResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { HttpReply, HttpRequest } from '../../common/http';
import { parse as parseCookie, serialize as serializeCookie, type SerializeOptions } from 'cookie';
import { createHash } from 'node:crypto';
import { fail } from '../../common/errors.catalog';
import { ApiErrors, ApiTextResponse } from '../../common/openapi';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { WECOM_ERRORS } from './wecom.errors';
import { Public } from '../../common/principal';
import { refusalPage } from './wecom-oauth.pages';
import { OAUTH_COOKIE, OAUTH_COOKIE_PATH, OAuthRefused, WecomOAuthService } from './wecom-oauth.service';

/** Read by the console (not HttpOnly): the SHA-256 of the token this sign-in handed over in the fragment. */
export const HANDOFF_COOKIE = 'sop_wecom_handoff';
const handoffDigest = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Where WeCom sends the browser back, and whether the cookies are Secure: APP_URL, the app's public address. The
 * request's Host and protocol are not used where APP_URL is set: behind a TLS proxy without TRUST_PROXY they say
 * http (non-Secure cookies, an http redirect_uri), and a forged Host would steer the redirect_uri. Without APP_URL
 * (local runs only; production refuses) the request's own address.
 */
export function publicBase(config: Pick<AppConfig, 'appUrl' | 'production'>, req: HttpRequest): string {
  if (config.appUrl) return config.appUrl;
  if (config.production) throw fail(WECOM_ERRORS.WECOM_OAUTH_UNCONFIGURED);
  return `${req.protocol}://${req.host}`;
}

/** Nothing of these answers is cached, framed or sent on as a referrer (the token rides in the fragment). */
const PRIVATE = { 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' };

/**
 * A refusal is a page for the person holding the phone, answered 200 like the join page's "what to fix" (the API's
 * error statuses carry its JSON error body); which refusal it is stands in the page's `data-reason`.
 */
function refuse(res: HttpReply, err: unknown): void {
  if (!(err instanceof OAuthRefused)) throw err;
  void res.status(200).headers({
    ...PRIVATE, 'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  }).send(refusalPage(err.reason));
}

/** The cookie's value from the request's Cookie header. */
const cookie = (req: HttpRequest, name: string): string | undefined => parseCookie(req.headers.cookie ?? '')[name];

/** Adds a Set-Cookie header (Fastify keeps every one set); `maxAge` in milliseconds, 0 to remove the cookie. */
function setCookie(res: HttpReply, name: string, value: string, { maxAge, ...options }: Omit<SerializeOptions, 'maxAge' | 'expires'> & { maxAge: number }): void {
  const expires = new Date(maxAge ? Date.now() + maxAge : 0);
  void res.header('set-cookie', serializeCookie(name, value, { ...options, expires, ...(maxAge ? { maxAge: Math.floor(maxAge / 1000) } : {}) }));
}

/**
 * Sign-in inside WeCom (the app's reminder cards open `/api/wecom/oauth/{tenantId}`). Public: WeCom's signed-in
 * member is who the code says, checked with the app's token; refusals are pages in Chinese and English.
 */
@ApiTags('wecom')
@Public()
@Controller('wecom/oauth')
export class WecomOAuthController {
  constructor(private readonly oauth: WecomOAuthService, @Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @Get('callback')
  @ApiOperation({
    summary: 'WeCom sends the browser back here with a single-use code: the member\'s matched user is signed in (the same access token a password gives) and sent on',
    description: 'The access token is handed to the console in the URL fragment (`#access_token=…`), which browsers never send to a server.',
  })
  @ApiQuery({ name: 'code', required: false, description: 'WeCom\'s single-use code (5 minutes)' })
  @ApiQuery({ name: 'state', required: false, description: 'The signed state the start gave WeCom' })
  @ApiFoundResponse({ description: 'Signed in: to the page the card named, with the access token in the fragment', headers: { Location: { schema: { type: 'string' } } } })
  @ApiTextResponse('text/html', 'Refused, a page in Chinese and English (no token): a forged, expired or foreign state, an invalid or used code (40029), ' +
    'a WeChat user who is not a member, a member matched to no enabled user, an organization no longer connected, WeCom refusing or out of reach')
  async finish(@Query('code') code: unknown, @Query('state') state: unknown, @Req() req: HttpRequest, @Res() res: HttpReply): Promise<void> {
    const secure = publicBase(this.config, req).startsWith('https:');
    setCookie(res, OAUTH_COOKIE, '', { path: OAUTH_COOKIE_PATH, secure, maxAge: 0 });
    try {
      const { accessToken, next } = await this.oauth.finish(code, state, cookie(req, OAUTH_COOKIE));
      // The console takes a token from the fragment only with this cookie's digest of it: a link carrying someone
      // else's token (signing the victim in to the sender's organization) has no such cookie.
      setCookie(res, HANDOFF_COOKIE, handoffDigest(accessToken), { sameSite: 'lax', secure, path: '/', maxAge: 60_000 });
      void res.headers(PRIVATE).redirect(`${next}#${new URLSearchParams({ access_token: accessToken })}`, 302);
    } catch (err) {
      refuse(res, err);
    }
  }

  @Get(':tenantId')
  @ApiOperation({
    summary: 'Where a WeCom reminder card points: starts WeCom sign-in (网页授权, snsapi_base) for the organization, then shows `next` signed in',
  })
  @ApiParam({ name: 'tenantId', description: 'The organization (the card carries it)', schema: { type: 'string', format: 'uuid' } })
  @ApiQuery({ name: 'next', required: false, description: 'A path of the console to open once signed in (default /inbox)', example: '/inbox?task=42' })
  @ApiFoundResponse({ description: 'To WeCom\'s authorize page, with a signed state that lives 10 minutes', headers: { Location: { schema: { type: 'string' } } } })
  @ApiErrors('WECOM_NOT_CONNECTED', 'WECOM_OAUTH_UNCONFIGURED')
  async start(@Param('tenantId') tenantId: string, @Query('next') next: unknown, @Req() req: HttpRequest, @Res() res: HttpReply): Promise<void> {
    const base = publicBase(this.config, req);
    const { location, nonce } = await this.oauth.start(tenantId, next, `${base}/api/wecom/oauth/callback`);
    setCookie(res, OAUTH_COOKIE, nonce, { httpOnly: true, sameSite: 'lax', secure: base.startsWith('https:'), path: OAUTH_COOKIE_PATH, maxAge: 10 * 60_000 });
    void res.headers(PRIVATE).redirect(location, 302);
  }
}
