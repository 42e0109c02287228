import { randomUUID } from 'node:crypto';
import { Http, signupTenant } from '../support/http';
import { Stack, useStack } from '../support/stack';

/** Issue 15: limits an attacker cannot walk around by changing the email or the organization. */
describe('abuse limits', () => {
  const ctx = useStack({
    env: { LOGIN_RATE_LIMIT_PER_MINUTE: '5', LOGIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '8', SIGNUP_RATE_LIMIT_PER_ADDRESS_PER_HOUR: '3', JOIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '3' },
  });
  // The API trusts X-Forwarded-For from loopback (TRUST_PROXY): each test is its own client address (random:
  // the counters are in Postgres and outlive a test run by their window).
  const octet = () => Math.floor(Math.random() * 250) + 1;
  const address = () => `10.${octet()}.${octet()}.${octet()}`;
  const from = (ip: string, path: string, body: unknown) => ctx.http.request('POST', path, body, { 'x-forwarded-for': ip });

  it('limits login attempts per address whatever the email (password spraying), with Retry-After', async () => {
    const ip = address();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push((await from(ip, '/api/auth/login', { email: `spray-${i}-${randomUUID()}@test.example`, password: 'password123' })).status);
    }
    expect(statuses).toEqual([...Array(8).fill(401), 429, 429]);
    const refused = await from(ip, '/api/auth/login', { email: `spray-${randomUUID()}@test.example`, password: 'password123' });
    expect(refused.body.code).toBe('RATE_LIMITED');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // another address is not affected
    const t = await signupTenant(new Http(ctx.stack.baseUrl, { 'x-forwarded-for': address() })); // 127.0.0.1's signups are counted for every test file
    expect((await from(address(), '/api/auth/login', { email: t.email, password: t.password })).status).toBe(200);
  });

  it('keeps the per address and email limit, with Retry-After', async () => {
    const ip = address();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await from(ip, '/api/auth/login', { email: 'one@test.example', password: 'password123' })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const refused = await from(ip, '/api/auth/login', { email: 'one@test.example', password: 'password123' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('limits signups per address whatever the email and organization, with Retry-After', async () => {
    const ip = address();
    const signup = () => from(ip, '/api/auth/signup', {
      organization: `Org ${randomUUID()}`, name: 'Admin', email: `a-${randomUUID()}@test.example`, password: 'password-1234',
    });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await signup()).status);
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    const refused = await signup();
    expect(refused.body.code).toBe('RATE_LIMITED');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(60);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect((await from(address(), '/api/auth/signup', {
      organization: `Org ${randomUUID()}`, name: 'Admin', email: `a-${randomUUID()}@test.example`, password: 'password-1234',
    })).status).toBe(201);
  });

  it('limits join-page forms per address, with Retry-After', async () => {
    const ip = address();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await ctx.http.request('POST', `/j/${randomUUID()}`, 'phone=13800138000&consent=yes',
        { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([404, 404, 404, 429, 429]);
  });

  it('counts attempts across API processes: two processes on one database let the limit through once, not twice', async () => {
    const second = await Stack.start({
      env: { LOGIN_RATE_LIMIT_PER_MINUTE: '5', LOGIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '8', SIGNUP_RATE_LIMIT_PER_ADDRESS_PER_HOUR: '3', JOIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '3' },
    });
    try {
      const ip = address();
      const apis = [ctx.http, new Http(second.baseUrl)];
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await apis[i % 2].request('POST', '/api/auth/login', { email: `spread-${randomUUID()}@test.example`, password: 'password123' }, { 'x-forwarded-for': ip });
        statuses.push(res.status);
      }
      expect(statuses).toEqual([...Array(8).fill(401), 429, 429]);
      // and at once: 12 attempts in parallel over both processes, 8 are let through
      const burst = address();
      const parallel = await Promise.all(Array.from({ length: 12 }, (_, i) => apis[i % 2].request('POST', '/api/auth/login',
        { email: `burst-${randomUUID()}@test.example`, password: 'password123' }, { 'x-forwarded-for': burst })));
      expect(parallel.filter((r) => r.status === 401)).toHaveLength(8);
      expect(parallel.filter((r) => r.status === 429)).toHaveLength(4);
    } finally {
      await second.stop();
    }
  });
});
