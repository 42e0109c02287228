import { AppError } from '@sop/domain';
import { createHmac } from 'node:crypto';
import type { AppConfig } from '../../config/config';
import { EventSigning } from './event-signing';

const config = (jwt: string, events?: string) => ({ jwt: { secret: jwt, ttlSeconds: 60 }, eventSigningSecret: events }) as AppConfig;
const code = (run: () => void) => {
  try {
    run();
    return 'ok';
  } catch (err) {
    return (err as AppError).code;
  }
};

describe('event signing secrets', () => {
  const signing = new EventSigning(config('j'.repeat(32)));
  const secret = signing.secretFor('key-1');
  const body = Buffer.from('{"id":"e1"}');
  const now = 1_800_000_000_000;
  const ts = String(now / 1000);
  const sig = (s = secret, t = ts, b: Buffer = body) => `v1=${createHmac('sha256', s).update(`${t}.`).update(b).digest('hex')}`;

  it('derives one secret per key from the server key, and EVENT_SIGNING_SECRET replaces JWT_SECRET as its root', () => {
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(signing.secretFor('key-2')).not.toBe(secret);
    expect(new EventSigning(config('j'.repeat(32))).secretFor('key-1')).toBe(secret);
    expect(new EventSigning(config('k'.repeat(32))).secretFor('key-1')).not.toBe(secret);
    expect(new EventSigning(config('k'.repeat(32), 'e'.repeat(32))).secretFor('key-1'))
      .toBe(new EventSigning(config('j'.repeat(32), 'e'.repeat(32))).secretFor('key-1'));
  });

  it('accepts the exact body and timestamp within 5 minutes, and nothing else', () => {
    expect(code(() => signing.verify('key-1', ts, sig(), body, now))).toBe('ok');
    expect(code(() => signing.verify('key-1', ts, sig().toUpperCase().replace('V1=', 'v1='), body, now + 300_000))).toBe('ok');
    expect(code(() => signing.verify('key-1', undefined, sig(), body, now))).toBe('SIGNATURE_MISSING');
    expect(code(() => signing.verify('key-1', ts, undefined, body, now))).toBe('SIGNATURE_MISSING');
    expect(code(() => signing.verify('key-1', ts, sig(), body, now + 301_000))).toBe('SIGNATURE_STALE');
    expect(code(() => signing.verify('key-1', ts, sig(), body, now - 301_000))).toBe('SIGNATURE_STALE');
    expect(code(() => signing.verify('key-1', '1.8e9', sig(), body, now))).toBe('SIGNATURE_STALE');
    expect(code(() => signing.verify('key-1', ts, sig(), Buffer.from('{"id":"e2"}'), now))).toBe('SIGNATURE_INVALID');
    expect(code(() => signing.verify('key-2', ts, sig(), body, now))).toBe('SIGNATURE_INVALID');
    expect(code(() => signing.verify('key-1', ts, sig().slice(3), body, now))).toBe('SIGNATURE_INVALID');
    expect(code(() => signing.verify('key-1', ts, 'v1=zz', body, now))).toBe('SIGNATURE_INVALID');
  });
});
