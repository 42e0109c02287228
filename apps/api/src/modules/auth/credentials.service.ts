import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { User } from '@sop/db';
import { isRole, type Role, UUID_PATTERN as UUID } from '@sop/domain';
import { COMMON_ERRORS, fail } from '../../common/errors.catalog';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import type { Principal } from '../../common/principal';
import { parseApiKey, secretMatches } from '../api-keys/api-key-secret';
import { AuthRepository } from './auth.repository';

interface TokenClaims {
  sub: string;
  tid: string;
  role: Role;
}

const unauthenticated = (message: string) => fail(COMMON_ERRORS.UNAUTHENTICATED, message);

/** Cached reads of a user's role and state, so that this many are kept before the oldest are dropped. */
const PRINCIPALS_KEPT = 10_000;

/**
 * Turns a bearer token or an API key into a Principal, checking the stored user or key. A user's role and state
 * are read again at most every PRINCIPAL_CACHE_MS (a read per request was a third of an inbox list's cost):
 * a change made through this process applies at once (`forget`), one made through another API process within
 * that time.
 */
@Injectable()
export class CredentialsService {
  private readonly principals = new Map<string, { role: Role; until: number }>();

  constructor(
    private readonly jwt: JwtService,
    private readonly auth: AuthRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The user's role or state changed: the next request reads it again. */
  forget(userId: string): void {
    for (const key of this.principals.keys()) if (key.startsWith(`${userId}:`)) this.principals.delete(key);
  }

  issueToken(user: Pick<User, 'id' | 'tenantId' | 'role'>): string {
    const claims: TokenClaims = { sub: user.id, tid: user.tenantId, role: user.role };
    return this.jwt.sign(claims);
  }

  async authenticate(headers: { authorization?: string; 'x-api-key'?: string }): Promise<Principal> {
    const apiKey = headers['x-api-key'];
    if (apiKey) return this.fromApiKey(apiKey);
    const [scheme, token] = (headers.authorization ?? '').split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !token) {
      throw unauthenticated('Log in and send "Authorization: Bearer <accessToken>", or send an "X-Api-Key" header.');
    }
    return this.fromToken(token);
  }

  private async fromToken(token: string): Promise<Principal> {
    let claims: TokenClaims;
    try {
      claims = await this.jwt.verifyAsync<TokenClaims>(token);
    } catch {
      throw unauthenticated('The access token is invalid or expired: log in again.');
    }
    return { tenantId: claims.tid, role: await this.currentRole(claims), userId: claims.sub, apiKeyId: null };
  }

  /** The user's role now (not the token's), or 401 when the user is gone or disabled. */
  private async currentRole(claims: TokenClaims): Promise<Role> {
    const key = `${claims.sub}:${claims.tid}`;
    const cached = this.principals.get(key);
    if (cached && cached.until > Date.now()) return cached.role;
    const role = UUID.test(claims.sub) && UUID.test(claims.tid) ? await this.auth.activeUserRole(claims.tid, claims.sub) : undefined;
    if (!role || !isRole(role)) {
      this.principals.delete(key);
      throw unauthenticated('This account no longer exists or is disabled.');
    }
    if (this.config.principalCacheMs > 0) {
      if (this.principals.size >= PRINCIPALS_KEPT) this.principals.delete(this.principals.keys().next().value!);
      this.principals.set(key, { role, until: Date.now() + this.config.principalCacheMs });
    }
    return role;
  }

  private async fromApiKey(raw: string): Promise<Principal> {
    const parsed = parseApiKey(raw.trim());
    const key = parsed ? await this.auth.apiKeyByPrefix(parsed.prefix) : null;
    if (!parsed || !key || !secretMatches(parsed.secret, key.secretHash)) {
      throw unauthenticated('The API key is unknown, malformed or revoked.');
    }
    // Recording last use at minute precision keeps the write rate low on busy keys.
    if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > 60_000) {
      await this.auth.touchApiKey(key.id);
    }
    return { tenantId: key.tenantId, role: key.role, userId: null, apiKeyId: key.id };
  }
}
