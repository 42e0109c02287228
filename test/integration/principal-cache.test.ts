import { randomBytes } from 'node:crypto';
import { addUser, Http, signupTenant } from '../support/http';
import { eventually } from '../support/poll';
import { Stack, useStack } from '../support/stack';

/**
 * An API process reads a user's role and state at most every PRINCIPAL_CACHE_MS: a change made through it
 * applies to the next request; one made through another process (two API processes on one database, as in
 * production) within that time.
 */
describe('who the caller is, cached per API process (two processes, real Postgres)', () => {
  const env = { JWT_SECRET: randomBytes(32).toString('hex'), PRINCIPAL_CACHE_MS: '1500' };
  const ctx = useStack({ env });
  let other: Stack;
  beforeAll(async () => {
    other = await Stack.start({ env });
  });
  afterAll(() => other?.stop());

  it('refuses a disabled account at once where it was disabled, and within the cache time elsewhere; a new role applies at once', async () => {
    const t = await signupTenant(ctx.http);
    const employee = await addUser(t, ctx.http, 'employee');
    const here = employee.client;
    const there = new Http(other.baseUrl, here.headers);
    expect((await here.get('/api/inbox/counts')).status).toBe(200);
    expect((await there.get('/api/inbox/counts')).status).toBe(200); // read, and kept for 1.5 s

    expect((await t.admin.patch(`/api/users/${employee.id}`, { disabled: true })).status).toBe(200);
    const refused = await here.get('/api/inbox/counts');
    expect(refused.status).toBe(401);
    expect(refused.body.message).toMatch(/disabled/);
    const disabledAt = Date.now();
    await eventually(async () => expect((await there.get('/api/inbox/counts')).status).toBe(401), 5000);
    expect(Date.now() - disabledAt).toBeLessThan(1500 + 1000);

    expect((await t.admin.get('/api/segments')).status).toBe(200);
    expect((await t.admin.patch(`/api/users/${employee.id}`, { disabled: false, role: 'ops' })).status).toBe(200);
    expect((await here.get('/api/segments')).status).toBe(200); // the token still says employee: the role is read again
  });
});
