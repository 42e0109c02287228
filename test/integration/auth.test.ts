import { randomUUID } from 'node:crypto';
import { signupTenant } from '../support/http';
import { useStack } from '../support/stack';

describe('auth over HTTP (real Postgres)', () => {
  const ctx = useStack({ env: { LOGIN_RATE_LIMIT_PER_MINUTE: '5' } });

  it('signs up an organization whose admin can log in and see who they are', async () => {
    const t = await signupTenant(ctx.http, 'Acme');
    const login = await ctx.http.post('/api/auth/login', { email: t.email.toUpperCase(), password: t.password });
    expect(login.status).toBe(200);
    expect(login.body.accessToken.split('.')).toHaveLength(3);
    const me = await ctx.http.as(login.body.accessToken).get('/api/auth/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ role: 'admin', email: t.email, organization: t.organization, apiKeyId: null });
  });

  it('answers 401 INVALID_CREDENTIALS for a wrong password and for an unknown email alike', async () => {
    const t = await signupTenant(ctx.http);
    const wrong = await ctx.http.post('/api/auth/login', { email: t.email, password: 'not-the-password' });
    const unknown = await ctx.http.post('/api/auth/login', { email: `nobody-${randomUUID()}@test.example`, password: 'whatever1234' });
    for (const r of [wrong, unknown]) {
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ code: 'INVALID_CREDENTIALS', message: 'The email or password is wrong.' });
      expect(r.body.requestId).toBeTruthy();
    }
  });

  it('rate-limits login attempts per address and email (429 RATE_LIMITED), leaving other emails alone', async () => {
    const t = await signupTenant(ctx.http);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await ctx.http.post('/api/auth/login', { email: t.email, password: 'wrong-password' })).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    const limited = await ctx.http.post('/api/auth/login', { email: t.email, password: t.password });
    expect(limited.body.code).toBe('RATE_LIMITED');
    const other = await signupTenant(ctx.http);
    expect((await ctx.http.post('/api/auth/login', { email: other.email, password: other.password })).status).toBe(200);
  });

  it('refuses a second account for the same email with 409 and creates no second tenant', async () => {
    const t = await signupTenant(ctx.http);
    const organization = `Copycat ${randomUUID()}`;
    const again = await ctx.http.post('/api/auth/signup', { organization, name: 'X', email: t.email, password: 'another-password' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'EMAIL_TAKEN', details: [{ path: 'email', problem: 'is already registered' }] });
    expect(await ctx.stack.db.query('SELECT 1 FROM tenants WHERE name = $1', [organization])).toHaveLength(0);
  });

  it('names every missing or malformed field and rejects unknown fields, storing nothing', async () => {
    const email = `bad-${randomUUID()}@test.example`;
    const res = await ctx.http.post('/api/auth/signup', { organization: '', email, password: 'short', plan: 'gold' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    const byPath = Object.fromEntries(res.body.details.map((d: { path: string; problem: string }) => [d.path, d.problem]));
    expect(Object.keys(byPath).sort()).toEqual(['name', 'organization', 'password', 'plan']);
    expect(byPath.plan).toBe('property plan should not exist');
    expect(byPath.password).toMatch(/longer than or equal to 10/);
    const rows = await ctx.stack.db.query('SELECT 1 FROM users WHERE email = $1', [email]);
    expect(rows).toHaveLength(0);
  });

  it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
    const res = await ctx.http.request('POST', '/api/auth/login', '{"email": ', { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('MALFORMED_JSON');
  });

  it('stores passwords as argon2id hashes, never in clear', async () => {
    const t = await signupTenant(ctx.http);
    const [row] = await ctx.stack.db.query('SELECT password_hash FROM users WHERE email = $1', [t.email]);
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(row.password_hash).not.toContain(t.password);
  });
});
