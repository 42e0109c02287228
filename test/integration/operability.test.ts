import { Http, signupTenant } from '../support/http';
import { Stack, useStack } from '../support/stack';

describe('operability: health, metrics, OpenAPI, request ids', () => {
  const ctx = useStack();

  it('is live, and ready only when Postgres and Temporal both answer', async () => {
    expect((await ctx.http.get('/health')).body).toEqual({ status: 'ok' });
    const ready = await ctx.http.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.postgres).toMatchObject({ status: 'up', detail: expect.stringMatching(/^\d+\.\d+/) });
    expect(ready.body.checks.temporal).toMatchObject({ status: 'up' });
  });

  it('reports not ready (503) and names Temporal when it cannot be reached', async () => {
    const broken = await Stack.start({ env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });
    try {
      const res = await new Http(broken.baseUrl).get('/health/ready');
      expect(res.status).toBe(503);
      expect(res.body.checks.postgres.status).toBe('up');
      expect(res.body.checks.temporal.status).toBe('down');
    } finally {
      await broken.stop();
    }
  });

  it('exposes Prometheus metrics with request durations by route', async () => {
    await ctx.http.get('/health');
    await ctx.http.get('/api/auth/me');
    const res = await ctx.http.get('/metrics');
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    expect(res.body).toContain('sop_api_process_cpu_user_seconds_total');
    expect(res.body).toMatch(/sop_api_http_request_duration_seconds_count\{method="GET",route="\/api\/auth\/me",status="401"\} \d+/);
  });

  it('serves OpenAPI at /docs and its JSON at /docs-json', async () => {
    const json = await ctx.http.get('/docs-json');
    expect(json.status).toBe(200);
    expect(Object.keys(json.body.paths)).toEqual(
      expect.arrayContaining(['/api/auth/signup', '/api/auth/login', '/api/users/{id}', '/api/teams', '/api/api-keys', '/api/round-trips', '/health/ready']),
    );
    expect(json.body.components.securitySchemes).toHaveProperty('api-key');
    const html = await ctx.http.get('/docs');
    expect(html.body).toContain('swagger-ui');
  });

  it('gives every answer a request id, echoing a caller-supplied one', async () => {
    const mine = await ctx.http.request('GET', '/api/nowhere', undefined, { 'x-request-id': 'trace-123' });
    expect(mine.status).toBe(404);
    expect(mine.headers.get('x-request-id')).toBe('trace-123');
    expect(mine.body).toEqual({ code: 'ROUTE_NOT_FOUND', message: 'No route GET /api/nowhere.', requestId: 'trace-123' });
    const t = await signupTenant(ctx.http);
    const generated = await t.admin.get('/api/users');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves the web app at /', async () => {
    const res = await ctx.http.get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.body).toContain('SOP');
  });
});
