import { Inject, Injectable } from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { fail } from '../../common/errors.catalog';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { API_KEYS_ERRORS } from './api-keys.errors';

/** How far a signed request's timestamp may be from the server's clock, either way. */
export const SIGNATURE_TOLERANCE_S = 300;


/**
 * Signing secrets for the events API, one per API key, derived rather than stored: HMAC-SHA256 of the key's
 * id under a server key (EVENT_SIGNING_SECRET, else derived from JWT_SECRET). The secret is never sent with a
 * request, so a leaked X-Api-Key header alone cannot sign events; the database holds nothing that reveals it.
 */
@Injectable()
export class EventSigning {
  private readonly serverKey: Buffer;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.serverKey = createHmac('sha256', config.eventSigningSecret ?? config.jwt.secret).update('event-signing').digest();
  }

  secretFor(apiKeyId: string): string {
    return `whsec_${createHmac('sha256', this.serverKey).update(apiKeyId).digest('base64url')}`;
  }

  /**
   * Checks `X-Sop-Timestamp` (Unix seconds) and `X-Sop-Signature` (`v1=` + hex HMAC-SHA256 of
   * "<timestamp>.<raw body>" under the key's signing secret): 401 when missing, stale or wrong.
   */
  verify(apiKeyId: string, timestamp: string | undefined, signature: string | undefined, rawBody: Buffer, now = Date.now()): void {
    if (!timestamp || !signature) {
      throw fail(API_KEYS_ERRORS.SIGNATURE_MISSING);
    }
    const seconds = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : NaN;
    if (!Number.isFinite(seconds) || Math.abs(now / 1000 - seconds) > SIGNATURE_TOLERANCE_S) {
      throw fail(API_KEYS_ERRORS.SIGNATURE_STALE, `X-Sop-Timestamp must be the current Unix time in seconds (within ${SIGNATURE_TOLERANCE_S} s).`);
    }
    const expected = createHmac('sha256', this.secretFor(apiKeyId)).update(`${timestamp}.`).update(rawBody).digest();
    const given = Buffer.from(/^v1=([0-9a-f]{64})$/i.exec(signature.trim())?.[1] ?? '', 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw fail(API_KEYS_ERRORS.SIGNATURE_INVALID);
    }
  }
}
