import { ModulesContainer } from '@nestjs/core';
import { PATH_METADATA } from '@nestjs/common/constants';
import { ERROR_TEXTS } from '../../apps/web/src/i18n/error-texts';
import { addUser, signupTenant } from '../support/http';
import { answerProblems, type OpenApiDoc, operations, openApiOf, resolve, type Schema } from '../support/openapi';
import { useStack } from '../support/stack';

const ERROR_BODY = '#/components/schemas/ErrorBodyDto';
const isError = (status: string) => /^[45]\d\d$/.test(status);
const name = (o: { method: string; path: string }) => `${o.method.toUpperCase()} ${o.path}`;

/**
 * The OpenAPI document is the contract the console's client is generated from: every operation says
 * what it answers on success and which errors (schema and codes) it may answer, and it tells the truth.
 */
describe('the OpenAPI document (/docs-json)', () => {
  const ctx = useStack();
  let doc: OpenApiDoc;
  beforeAll(async () => {
    doc = await openApiOf(ctx.stack.baseUrl);
  });
  const ops = () => operations(doc);
  /** Operations failing `check`, by name: an empty list reads best in a failure. */
  const failing = (check: (o: ReturnType<typeof ops>[number]) => boolean) => ops().filter((o) => !check(o)).map(name);

  it('documents every route of every controller', () => {
    let routes = 0;
    for (const mod of ctx.stack.app.get(ModulesContainer).values()) {
      for (const { metatype } of mod.controllers.values()) {
        const proto = (metatype as { prototype: Record<string, unknown> }).prototype;
        routes += Object.getOwnPropertyNames(proto).filter((n) => n !== 'constructor' && Reflect.hasMetadata(PATH_METADATA, proto[n] as object)).length;
      }
    }
    expect(ops().length).toBe(routes);
    expect(routes).toBeGreaterThan(100);
  });

  it('gives every operation a success answer with a schema, except deletions (204) and the redirects (302: the tracked link, WeCom sign-in)', () => {
    expect(failing(({ op }) => {
      const success = Object.entries(op.responses).filter(([s]) => /^[23]\d\d$/.test(s));
      return success.length > 0 && success.every(([status, r]: [string, any]) => {
        if (status === '204') return !r.content;
        if (status === '302') return Boolean(r.headers?.Location);
        return Object.values(r.content ?? {}).length > 0 && Object.values(r.content).every((c: any) => c.schema);
      });
    })).toEqual([]);
    expect(ops().filter(({ op }) => op.responses['302']).map(name).sort()).toEqual(['GET /api/wecom/oauth/callback', 'GET /api/wecom/oauth/{tenantId}', 'GET /r/{token}']);
    const media = (path: string) => Object.keys(doc.paths[path].get.responses['200'].content);
    expect(media('/api/segments/{id}/export.csv')).toEqual(['text/csv']);
    expect(media('/api/notifications/stream')).toEqual(['text/event-stream']);
    expect(media('/metrics')).toEqual(['text/plain']);
  });

  it('answers errors with one schema, naming on each the codes it may carry, each listed with that status', () => {
    const catalog: Record<string, { status: number[] }> = doc.components.schemas.ErrorCode['x-error-catalog'];
    const problems = ops().flatMap((o) => Object.entries(o.op.responses).filter(([s]) => isError(s)).flatMap(([status, r]: [string, any]) => {
      if (o.path === '/health/ready' && status === '503') return []; // readiness answers its checks, up or down
      const where = `${name(o)} ${status}`;
      if (r.content?.['application/json']?.schema?.$ref !== ERROR_BODY || Object.keys(r.content).length !== 1) return [`${where}: not the error schema`];
      const codes: string[] = r['x-error-codes'] ?? [];
      if (!codes.length) return [`${where}: no x-error-codes`];
      return codes.filter((c) => !catalog[c]?.status.includes(Number(status))).map((c) => `${where}: ${c} is not a ${status} in the catalog`);
    }));
    expect(problems).toEqual([]);
    expect(resolve(doc, { $ref: ERROR_BODY }).required).toEqual(['code', 'message', 'requestId']);
  });

  it('publishes the whole catalog as the ErrorCode enum, each code with console text', () => {
    const codes: string[] = doc.components.schemas.ErrorCode.enum;
    expect(Object.keys(doc.components.schemas.ErrorCode['x-error-catalog']).sort()).toEqual([...codes].sort());
    expect([...codes].sort()).toEqual(Object.keys(ERROR_TEXTS).sort());
    const used = new Set(ops().flatMap(({ op }) => Object.values(op.responses).flatMap((r: any) => r['x-error-codes'] ?? [])));
    // codes of the HTTP layer that no route's own logic answers: an unknown route, a method or an exception Nest raises itself
    expect(codes.filter((c) => !used.has(c)).sort()).toEqual(['BAD_REQUEST', 'FORBIDDEN', 'METHOD_NOT_ALLOWED', 'ROUTE_NOT_FOUND']);
  });

  it('lists 401 on every authenticated operation, 403 where a role is required, 404 where the path names a record', () => {
    expect(failing(({ op }) => !op.security?.length || op.responses['401'])).toEqual([]);
    expect(doc.paths['/api/api-keys'].get.responses['403']['x-error-codes']).toEqual(['ROLE_FORBIDDEN']);
    expect(doc.paths['/api/auth/me'].get.responses['403']).toBeUndefined(); // every role may ask who it is
    expect(doc.paths['/api/users'].get.responses['403']).toBeUndefined(); // every role reads the directory
    expect(doc.paths['/health'].get.responses['401']).toBeUndefined();
    expect(failing(({ op }) => !(op.parameters ?? []).some((p: any) => p.in === 'path' && /^(id|\w+Id|token)$/.test(p.name))
      || op.responses['404'])).toEqual([]);
  });

  it('lists 400 where a body is validated, 429 where logins and the join page are rate-limited, 500 everywhere', () => {
    expect(failing(({ op }) => !op.requestBody?.content?.['application/json'] || op.responses['400']?.['x-error-codes'].includes('VALIDATION_FAILED')))
      .toEqual([]);
    expect(ops().filter(({ op }) => op.responses['429']).map(name).sort()).toEqual(['POST /api/auth/login', 'POST /api/auth/signup', 'POST /j/{id}']);
    expect(failing(({ op }) => op.responses['500'])).toEqual([]);
  });

  it('types every object: free-form ones say additionalProperties, so a generated client does not read them as empty', () => {
    const empty: string[] = [];
    const walk = (s: unknown, at: string): void => {
      if (!s || typeof s !== 'object') return;
      const schema = s as Schema;
      if (schema.type === 'object' && !schema.properties && schema.additionalProperties === undefined) empty.push(at);
      if (typeof schema.$ref === 'string' && !doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')]) empty.push(`${at}: dangling $ref`);
      for (const [k, v] of Object.entries(schema)) walk(v, `${at}.${k}`);
    };
    walk(doc, '$');
    expect(empty).toEqual([]);
  });

  it('gives ids and dates their formats, and marks every body required (issue 15)', () => {
    // free strings of other systems (external ids, event ids, request and workflow ids) have no format to give
    const FREE = /^(externalId|requestId|workflowId)$|^Event(Result)?Dto\.(id|responseId)$/;
    const problems: string[] = [];
    for (const [schemaName, s] of Object.entries<any>(doc.components.schemas)) {
      for (const [p, v] of Object.entries<any>(s.properties ?? {})) {
        const t = v.items ?? v;
        if (FREE.test(p) || FREE.test(`${schemaName}.${p}`) || t.type !== 'string' || t.format || t.pattern || t.enum) continue;
        if (/(^id$|Id$|Ids$)/.test(p)) problems.push(`${schemaName}.${p}: an id without format or pattern`);
        if (/(At$|^at$|^from$|^until$|^date$)/.test(p)) problems.push(`${schemaName}.${p}: a date without format`);
      }
    }
    for (const o of ops()) {
      if (o.op.requestBody && !o.op.requestBody.required) problems.push(`${name(o)}: body not required`);
      for (const prm of o.op.parameters ?? []) {
        if ((prm.in === 'path' || prm.in === 'query') && /(^id$|Id$)/.test(prm.name) && !prm.schema?.format && !prm.schema?.pattern) {
          problems.push(`${name(o)}: ${prm.in} ${prm.name} without format or pattern`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('tells the truth: real answers, successes and errors, match it', async () => {
    const t = await signupTenant(ctx.http);
    const employee = await addUser(t, ctx.http, 'employee');
    const missing = '00000000-0000-4000-8000-000000000000';
    const team = (await t.admin.post('/api/teams', { name: 'Docs team' })).body;
    const calls: [string, string, () => Promise<{ status: number; body: unknown; headers: Headers }>][] = [
      ['GET', '/api/auth/me', () => t.admin.get('/api/auth/me')],
      ['GET', '/api/users', () => t.admin.get('/api/users')],
      ['GET', '/api/users', () => ctx.http.get('/api/users')],
      ['GET', '/api/api-keys', () => employee.client.get('/api/api-keys')],
      ['GET', '/api/users', () => t.admin.get('/api/users?limit=0')],
      ['GET', `/api/users/${missing}`, () => t.admin.get(`/api/users/${missing}`)],
      ['GET', '/api/users/not-a-uuid', () => t.admin.get('/api/users/not-a-uuid')],
      ['POST', '/api/users', () => t.admin.post('/api/users', { email: 'x@test.example', name: 'x', role: 'employee', password: 'long-enough-pw', teamId: missing })],
      ['POST', '/api/teams', () => t.admin.post('/api/teams', { name: 'Docs team' })],
      ['GET', `/api/teams/${team.id}`, () => t.admin.get(`/api/teams/${team.id}`)],
      ['POST', '/api/tag-groups', () => t.admin.request('POST', '/api/tag-groups', '{"name": ')],
      ['GET', '/api/tag-groups', () => employee.client.get('/api/tag-groups')],
      ['GET', '/api/inbox/counts', () => employee.client.get('/api/inbox/counts')],
      ['GET', '/api/inbox/tasks/1', () => employee.client.get('/api/inbox/tasks/1')],
      ['GET', '/health', () => ctx.http.get('/health')],
      ['GET', '/health/ready', () => ctx.http.get('/health/ready')],
      ['GET', '/r/nonsense', () => ctx.http.get('/r/nonsense')],
    ];
    const statuses: number[] = [];
    const problems: string[] = [];
    for (const [method, path, call] of calls) {
      const res = await call();
      statuses.push(res.status);
      problems.push(...answerProblems(doc, method, `${ctx.stack.baseUrl}${path}`, res.status, res.headers.get('content-type') ?? '', res.body));
    }
    expect(problems).toEqual([]);
    expect(statuses).toEqual([200, 200, 401, 403, 400, 404, 400, 422, 409, 200, 400, 200, 200, 404, 200, 200, 404]);
  });
});
