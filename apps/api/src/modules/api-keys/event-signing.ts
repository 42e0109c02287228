import { Inject, Injectable } from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { fail } from '../../common/errors.catalog';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { API_KEYS_ERRORS } from './api-keys.errors';

/** How far a signed request's timestamp may be from the server's clock, either way. */
export const SIGNATURE_TOLERANCE_S = 300;

/** An API key as its signature sees it: its id and the server key its secret derives from. */
export interface SigningKeyRef {
  id: string;
  /** EVENT_SIGNING_KEYS id; null: the single EVENT_SIGNING_SECRET (or, outside production, JWT_SECRET). */
  signingKeyId: string | null;
  /** Drawn at each rotation; null for a key never rotated. */
  signingNonce: string | null;
}

const rootOf = (secret: string) => createHmac('sha256', secret).update('event-signing').digest();

/**
 * Signing secrets for the events API, one per API key, derived rather than stored: HMAC-SHA256 of the key's
 * id (and, once rotated, a random nonce) under a server key. Server keys have ids (EVENT_SIGNING_KEYS, first for new keys) so they can be rotated:
 * an API key remembers the id it was made under and keeps verifying while that key is configured; rotating
 * the API key's secret moves it to the first key. The secret is never sent with a request, so a leaked
 * X-Api-Key header alone cannot sign events; the database holds nothing that reveals it.
 */
@Injectable()
export class EventSigning {
  private readonly roots = new Map<string | null, Buffer>();
  /** The server key new and rotated API keys derive their secret from. */
  readonly currentKeyId: string | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    for (const key of config.eventSigningKeys ?? []) this.roots.set(key.id, rootOf(key.secret));
    // The single secret of before stays a root for the API keys made under it; JWT_SECRET only while no key
    // is configured at all (production refuses to start that way).
    const legacy = config.eventSigningSecret ?? (config.eventSigningKeys ? undefined : config.jwt.secret);
    if (legacy) this.roots.set(null, rootOf(legacy));
    this.currentKeyId = config.eventSigningKeys?.[0]?.id ?? null;
  }

  secretFor(key: SigningKeyRef): string {
    const root = this.roots.get(key.signingKeyId);
    if (!root) throw fail(API_KEYS_ERRORS.SIGNING_KEY_RETIRED);
    const subject = key.signingNonce ? `${key.id}.${key.signingNonce}` : key.id;
    return `whsec_${createHmac('sha256', root).update(subject).digest('base64url')}`;
  }

  /**
   * Checks `X-Sop-Timestamp` (Unix seconds) and `X-Sop-Signature` (`v1=` + hex HMAC-SHA256 of
   * "<timestamp>.<raw body>" under the key's signing secret): 401 when missing, stale, wrong or retired.
   */
  verify(key: SigningKeyRef, timestamp: string | undefined, signature: string | undefined, rawBody: Buffer, now = Date.now()): void {
    if (!timestamp || !signature) {
      throw fail(API_KEYS_ERRORS.SIGNATURE_MISSING);
    }
    const seconds = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : NaN;
    if (!Number.isFinite(seconds) || Math.abs(now / 1000 - seconds) > SIGNATURE_TOLERANCE_S) {
      throw fail(API_KEYS_ERRORS.SIGNATURE_STALE, `X-Sop-Timestamp must be the current Unix time in seconds (within ${SIGNATURE_TOLERANCE_S} s).`);
    }
    const expected = createHmac('sha256', this.secretFor(key)).update(`${timestamp}.`).update(rawBody).digest();
    const given = Buffer.from(/^v1=([0-9a-f]{64})$/i.exec(signature.trim())?.[1] ?? '', 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw fail(API_KEYS_ERRORS.SIGNATURE_INVALID);
    }
  }
}
