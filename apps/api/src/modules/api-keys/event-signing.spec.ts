import { AppError } from '@sop/domain';
import { createHmac } from 'node:crypto';
import type { AppConfig } from '../../config/config';
import { EventSigning } from './event-signing';

const config = (jwt: string, events?: string, keys?: { id: string; secret: string }[]) =>
  ({ jwt: { secret: jwt, ttlSeconds: 60 }, eventSigningSecret: events, eventSigningKeys: keys }) as AppConfig;
const legacy = (id: string) => ({ id, signingKeyId: null, signingNonce: null });
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
  const secret = signing.secretFor(legacy('key-1'));
  const body = Buffer.from('{"id":"e1"}');
  const now = 1_800_000_000_000;
  const ts = String(now / 1000);
  const sig = (s = secret, t = ts, b: Buffer = body) => `v1=${createHmac('sha256', s).update(`${t}.`).update(b).digest('hex')}`;

  it('derives one secret per key from the server key, and EVENT_SIGNING_SECRET replaces JWT_SECRET as its root', () => {
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(signing.secretFor(legacy('key-2'))).not.toBe(secret);
    expect(new EventSigning(config('j'.repeat(32))).secretFor(legacy('key-1'))).toBe(secret);
    expect(new EventSigning(config('k'.repeat(32))).secretFor(legacy('key-1'))).not.toBe(secret);
    expect(new EventSigning(config('k'.repeat(32), 'e'.repeat(32))).secretFor(legacy('key-1')))
      .toBe(new EventSigning(config('j'.repeat(32), 'e'.repeat(32))).secretFor(legacy('key-1')));
  });

  it('accepts the exact body and timestamp within 5 minutes, and nothing else', () => {
    expect(code(() => signing.verify(legacy('key-1'), ts, sig(), body, now))).toBe('ok');
    expect(code(() => signing.verify(legacy('key-1'), ts, sig().toUpperCase().replace('V1=', 'v1='), body, now + 300_000))).toBe('ok');
    expect(code(() => signing.verify(legacy('key-1'), undefined, sig(), body, now))).toBe('SIGNATURE_MISSING');
    expect(code(() => signing.verify(legacy('key-1'), ts, undefined, body, now))).toBe('SIGNATURE_MISSING');
    expect(code(() => signing.verify(legacy('key-1'), ts, sig(), body, now + 301_000))).toBe('SIGNATURE_STALE');
    expect(code(() => signing.verify(legacy('key-1'), ts, sig(), body, now - 301_000))).toBe('SIGNATURE_STALE');
    expect(code(() => signing.verify(legacy('key-1'), '1.8e9', sig(), body, now))).toBe('SIGNATURE_STALE');
    expect(code(() => signing.verify(legacy('key-1'), ts, sig(), Buffer.from('{"id":"e2"}'), now))).toBe('SIGNATURE_INVALID');
    expect(code(() => signing.verify(legacy('key-2'), ts, sig(), body, now))).toBe('SIGNATURE_INVALID');
    expect(code(() => signing.verify(legacy('key-1'), ts, sig().slice(3), body, now))).toBe('SIGNATURE_INVALID');
    expect(code(() => signing.verify(legacy('key-1'), ts, 'v1=zz', body, now))).toBe('SIGNATURE_INVALID');
  });

  it('rotates server keys by id: new keys use the first, older ones verify while their key stays, a retired one is named', () => {
    const k1 = 'a'.repeat(32);
    const k2 = 'b'.repeat(32);
    const before = new EventSigning(config('j'.repeat(32), 'e'.repeat(32), [{ id: 'k1', secret: k1 }]));
    const after = new EventSigning(config('x'.repeat(32), 'e'.repeat(32), [{ id: 'k2', secret: k2 }, { id: 'k1', secret: k1 }]));
    expect(before.currentKeyId).toBe('k1');
    expect(after.currentKeyId).toBe('k2');
    // an API key made under k1 (or under the single secret of before) signs the same after k2 is added
    expect(after.secretFor({ id: 'key-1', signingKeyId: 'k1', signingNonce: null })).toBe(before.secretFor({ id: 'key-1', signingKeyId: 'k1', signingNonce: null }));
    expect(after.secretFor(legacy('key-1'))).toBe(before.secretFor(legacy('key-1')));
    expect(after.secretFor({ id: 'key-1', signingKeyId: 'k2', signingNonce: null })).not.toBe(after.secretFor({ id: 'key-1', signingKeyId: 'k1', signingNonce: null }));
    const retired = new EventSigning(config('j'.repeat(32), undefined, [{ id: 'k2', secret: k2 }]));
    const s1 = before.secretFor({ id: 'key-1', signingKeyId: 'k1', signingNonce: null });
    expect(code(() => retired.verify({ id: 'key-1', signingKeyId: 'k1', signingNonce: null }, ts, sig(s1), body, now))).toBe('SIGNING_KEY_RETIRED');
    // a rotation's nonce gives a new secret under the same server key
    expect(after.secretFor({ id: 'key-1', signingKeyId: 'k2', signingNonce: 'n1' })).not.toBe(after.secretFor({ id: 'key-1', signingKeyId: 'k2', signingNonce: null }));
    // with keys configured and no single secret, JWT_SECRET is never a root
    expect(code(() => retired.secretFor(legacy('key-1')))).toBe('SIGNING_KEY_RETIRED');
  });
});
