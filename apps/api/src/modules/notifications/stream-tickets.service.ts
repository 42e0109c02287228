import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { UUID_PATTERN } from '@sop/domain';
import { randomUUID } from 'node:crypto';
import { COMMON_ERRORS, fail } from '../../common/errors.catalog';
import type { Principal } from '../../common/principal';
import { CredentialsService } from '../auth/credentials.service';
import { personOf } from './notifications.service';
import { StreamTicketsRepository } from './stream-tickets.repository';

export const STREAM_TICKET_SECONDS = 60;
export const STREAM_TICKET_AUDIENCE = 'notifications-stream';

/**
 * A browser's EventSource cannot send an Authorization header, and an access token in a URL would sit in
 * logs for its whole life. So the page asks (with its token) for a ticket good for one minute and only for
 * the stream, signed with a key of its own (NotificationsModule: a ticket is no access token anywhere else), and opens
 * `/api/notifications/stream?ticket=…`. Other clients may send the bearer token as a header instead.
 */
@Injectable()
export class StreamTickets {
  constructor(
    private readonly jwt: JwtService,
    private readonly credentials: CredentialsService,
    private readonly tickets: StreamTicketsRepository,
  ) {}

  issue(caller: Principal): { ticket: string; expiresAt: Date } {
    const ticket = this.jwt.sign({ sub: personOf(caller), tid: caller.tenantId, jti: randomUUID() });
    return { ticket, expiresAt: new Date(Date.now() + STREAM_TICKET_SECONDS * 1000) };
  }

  /** The stream's caller, from a ticket or else from the usual headers; 401 when neither holds. */
  async authenticate(ticket: string | undefined, headers: Record<string, string | string[] | undefined>): Promise<{ tenantId: string; userId: string }> {
    if (!ticket) {
      const caller = await this.credentials.authenticate(headers as { authorization?: string });
      return { tenantId: caller.tenantId, userId: personOf(caller) };
    }
    let claims: { sub: string; tid: string; jti?: string; exp: number };
    try {
      claims = await this.jwt.verifyAsync(ticket);
    } catch {
      throw fail(COMMON_ERRORS.UNAUTHENTICATED, 'The stream ticket is invalid or expired: ask for a new one (POST /api/notifications/stream-tickets).');
    }
    // single-use: a ticket seen in a URL (a log, a proxy, the browser's history) opens nothing once its page has used it
    if (!claims.jti || !(await this.firstUse(claims.jti, claims.exp))) {
      throw fail(COMMON_ERRORS.UNAUTHENTICATED, 'This stream ticket was used already: ask for a new one (POST /api/notifications/stream-tickets).');
    }
    if (!(await this.tickets.isActiveUser(claims.tid, claims.sub))) throw fail(COMMON_ERRORS.UNAUTHENTICATED, 'This account no longer exists or is disabled.');
    return { tenantId: claims.tid, userId: claims.sub };
  }

  /** Records the ticket's use; false when it was used before. Uses of expired tickets are forgotten as new ones come. */
  private async firstUse(jti: string, exp: number): Promise<boolean> {
    if (!UUID_PATTERN.test(jti)) return false;
    await this.tickets.forgetExpiredUses();
    return this.tickets.recordUse(jti, exp);
  }
}
