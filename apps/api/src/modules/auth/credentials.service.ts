import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectRepository } from '@nestjs/typeorm';
import { ApiKey, User } from '@sop/db';
import { isRole, type Role, UUID_PATTERN as UUID } from '@sop/domain';
import { IsNull, Repository } from 'typeorm';
import { COMMON_ERRORS, fail } from '../../common/errors.catalog';
import type { Principal } from '../../common/principal';
import { parseApiKey, secretMatches } from '../api-keys/api-key-secret';

interface TokenClaims {
  sub: string;
  tid: string;
  role: Role;
}

const unauthenticated = (message: string) => fail(COMMON_ERRORS.UNAUTHENTICATED, message);

/** Turns a bearer token or an API key into a Principal, checking the stored user or key each time. */
@Injectable()
export class CredentialsService {
  constructor(
    private readonly jwt: JwtService,
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(ApiKey) private readonly apiKeys: Repository<ApiKey>,
  ) {}

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
    // Re-read the user so that disabling someone or changing their role takes effect at once (plain SQL:
    // this runs on every request, and the query builder cost more than the query).
    const [user]: Array<{ role: string }> = UUID.test(claims.sub) && UUID.test(claims.tid)
      ? await this.users.query(`SELECT role FROM users WHERE id = $1 AND tenant_id = $2 AND disabled_at IS NULL`, [claims.sub, claims.tid])
      : [];
    if (!user || !isRole(user.role)) throw unauthenticated('This account no longer exists or is disabled.');
    return { tenantId: claims.tid, role: user.role, userId: claims.sub, apiKeyId: null };
  }

  private async fromApiKey(raw: string): Promise<Principal> {
    const parsed = parseApiKey(raw.trim());
    const key = parsed
      ? await this.apiKeys.findOne({
          where: { prefix: parsed.prefix, revokedAt: IsNull() },
          select: { id: true, tenantId: true, role: true, secretHash: true, lastUsedAt: true },
        })
      : null;
    if (!parsed || !key || !secretMatches(parsed.secret, key.secretHash)) {
      throw unauthenticated('The API key is unknown, malformed or revoked.');
    }
    // Recording last use at minute precision keeps the write rate low on busy keys.
    if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > 60_000) {
      await this.apiKeys.update({ id: key.id }, { lastUsedAt: new Date() });
    }
    return { tenantId: key.tenantId, role: key.role, userId: null, apiKeyId: key.id };
  }
}
