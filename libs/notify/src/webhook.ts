import { createHmac, timingSafeEqual } from 'node:crypto';
import { type HttpOptions, postJson } from './http';
import type { Message } from './types';

/** Headers of the generic webhook; receivers verify with verifyWebhookSignature. */
export const WEBHOOK_HEADERS = { delivery: 'x-sop-delivery', timestamp: 'x-sop-timestamp', signature: 'x-sop-signature' } as const;

/** v1=hex(HMAC-SHA256(secret, `${timestamp}.${rawBody}`)), timestamp in Unix seconds. */
export function webhookSignature(secret: string, timestamp: number, rawBody: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
}

/** For receivers: a valid signature over this body, made within `toleranceSeconds` of now. */
export function verifyWebhookSignature(
  secret: string, timestampHeader: string | undefined, rawBody: string, signatureHeader: string | undefined,
  { now = Date.now(), toleranceSeconds = 300 } = {},
): boolean {
  const timestamp = Number(timestampHeader);
  if (!Number.isInteger(timestamp) || !signatureHeader) return false;
  if (Math.abs(now / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(webhookSignature(secret, timestamp, rawBody));
  const given = Buffer.from(signatureHeader);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The generic webhook: the message as JSON, signed, with the delivery id so a receiver can drop a repeat. */
export async function sendWebhook(url: string, secret: string, message: Message, http: HttpOptions, now = Date.now()): Promise<void> {
  const timestamp = Math.floor(now / 1000);
  const body = JSON.stringify({
    id: message.id, kind: message.kind, locale: message.locale, title: message.title, body: message.body,
    url: message.url ?? null, data: message.data ?? {}, sentAt: new Date(now).toISOString(),
  });
  await postJson(url, body, http, {
    [WEBHOOK_HEADERS.delivery]: message.id,
    [WEBHOOK_HEADERS.timestamp]: String(timestamp),
    [WEBHOOK_HEADERS.signature]: webhookSignature(secret, timestamp, body),
  });
}
