import { randomBytes } from 'node:crypto';
import { eventKey, sendEvents } from '../support/events';
import { Http, signupTenant } from '../support/http';
import { Stack } from '../support/stack';

const secret = () => randomBytes(24).toString('hex');

/**
 * Issue 15: the events API's signing secrets derive from server keys with ids (EVENT_SIGNING_KEYS), so a server
 * key can be rotated without breaking integrations: keys made under the old one keep verifying until each is
 * rotated, a rotated key signs under the new one only, and a retired server key is named in the refusal.
 * Three API processes on one database, one per configuration, as a rolling deploy would run them.
 */
describe('rotating the events signing keys (real Postgres, three API configurations)', () => {
  const jwt = secret();
  const [k1, k2] = [secret(), secret()];
  const stacks: Stack[] = [];
  const start = async (keys: string) => {
    const stack = await Stack.start({ env: { JWT_SECRET: jwt, EVENT_SIGNING_KEYS: keys } });
    stacks.push(stack);
    return new Http(stack.baseUrl);
  };
  afterAll(() => Promise.all(stacks.map((s) => s.stop())));

  it('keeps old keys verifying after a new server key is added, rotates one key at a time, names a retired key', async () => {
    const before = await start(`k1:${k1}`);
    const after = await start(`k2:${k2},k1:${k1}`);
    const retired = await start(`k2:${k2}`);
    const t = await signupTenant(before, 'Signing rotation');
    await t.admin.post('/api/contacts', { externalId: 'c1' });
    const key = await eventKey(t);
    expect(key).toMatchObject({ signingKeyId: 'k1' });
    let n = 0;
    const reply = { type: 'reply', externalId: 'c1', data: { text: 'hi' } };
    const send = async (http: Http, k: { key: string; signingSecret: string; id: string }) => {
      const res = await sendEvents(http, k, { ...reply, id: `evt-${++n}` });
      return res.status === 200 ? res.body.results[0].status : res.body.code;
    };
    expect(await send(before, key)).toBe('accepted');
    // a new first server key changes nothing for keys made under k1
    expect(await send(after, key)).toBe('accepted');
    expect(await send(retired, key)).toBe('SIGNING_KEY_RETIRED');

    const admin = after.as(t.adminToken);
    const rotated = await admin.post(`/api/api-keys/${key.id}/signing-secret`);
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({ id: key.id, signingKeyId: 'k2', signingSecret: expect.stringMatching(/^whsec_/) });
    expect(rotated.body.signingSecret).not.toBe(key.signingSecret);
    const fresh = { ...key, signingSecret: rotated.body.signingSecret };
    expect(await send(after, key)).toBe('SIGNATURE_INVALID');
    expect(await send(after, fresh)).toBe('accepted');
    expect(await send(retired, fresh)).toBe('accepted');
    expect((await admin.get('/api/api-keys')).body.items).toEqual([expect.objectContaining({ id: key.id, signingKeyId: 'k2', signingKeyCurrent: true })]);
    expect((await before.as(t.adminToken).get('/api/api-keys')).body.items).toEqual([expect.objectContaining({ signingKeyCurrent: false })]);
    // rotating again under the same server key replaces a leaked secret: the newest alone verifies
    const again = await admin.post(`/api/api-keys/${key.id}/signing-secret`);
    expect(again.body.signingSecret).not.toBe(fresh.signingSecret);
    expect(await send(after, fresh)).toBe('SIGNATURE_INVALID');
    expect(await send(after, { ...key, signingSecret: again.body.signingSecret })).toBe('accepted');

    // another tenant's admin cannot rotate it; a revoked key cannot be rotated back to life
    const other = await signupTenant(after, 'Other');
    expect((await other.admin.post(`/api/api-keys/${key.id}/signing-secret`)).status).toBe(404);
    expect((await admin.delete(`/api/api-keys/${key.id}`)).status).toBe(200);
    const revoked = await admin.post(`/api/api-keys/${key.id}/signing-secret`);
    expect([revoked.status, revoked.body.code]).toEqual([409, 'API_KEY_REVOKED']);
  });
});
