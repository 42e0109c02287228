import { ModulesContainer } from '@nestjs/core';
import { PATH_METADATA } from '@nestjs/common/constants';
import { PUBLIC_KEY, ROLES_KEY } from '@sop/api';
import { addUser, signupTenant } from '../support/http';
import { useStack } from '../support/stack';

describe('tenants, roles and API keys (real Postgres)', () => {
  const ctx = useStack();

  it('declares roles or @Public on every route, so none is open by accident', () => {
    const undeclared: string[] = [];
    let routes = 0;
    for (const mod of ctx.stack.app.get(ModulesContainer).values()) {
      for (const { metatype } of mod.controllers.values()) {
        const proto = (metatype as { prototype: Record<string, unknown> }).prototype;
        for (const name of Object.getOwnPropertyNames(proto)) {
          const handler = proto[name];
          if (name === 'constructor' || typeof handler !== 'function' || Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
          routes++;
          const declared = [handler, metatype].some(
            (t) => Reflect.getMetadata(PUBLIC_KEY, t as object) || Reflect.getMetadata(ROLES_KEY, t as object)?.length,
          );
          if (!declared) undeclared.push(`${(metatype as { name: string }).name}.${name}`);
        }
      }
    }
    expect(routes).toBeGreaterThan(15);
    expect(undeclared).toEqual([]);
  });

  it('answers 401 without credentials and 403 ROLE_FORBIDDEN for the wrong role', async () => {
    const t = await signupTenant(ctx.http);
    expect((await ctx.http.get('/api/users')).status).toBe(401);
    expect((await ctx.http.as('not.a.jwt').get('/api/users')).body.code).toBe('UNAUTHENTICATED');
    const employee = await addUser(t, ctx.http, 'employee');
    const res = await employee.client.post('/api/users', { email: 'x@test.example', name: 'X', role: 'admin', password: 'long-enough-password' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'ROLE_FORBIDDEN', message: 'This action needs the role admin; you are employee.' });
    expect((await employee.client.get('/api/auth/me')).status).toBe(200);
  });

  it("answers 404 for another tenant's ids and never lists them", async () => {
    const a = await signupTenant(ctx.http, 'A');
    const b = await signupTenant(ctx.http, 'B');
    const bUser = await addUser(b, ctx.http, 'ops');
    const bTeam = (await b.admin.post('/api/teams', { name: 'B team' })).body;
    expect((await a.admin.get(`/api/users/${bUser.id}`)).status).toBe(404);
    expect((await a.admin.patch(`/api/users/${bUser.id}`, { name: 'hijack' })).status).toBe(404);
    expect((await a.admin.delete(`/api/users/${bUser.id}`)).status).toBe(404);
    expect((await a.admin.get(`/api/teams/${bTeam.id}`)).body.code).toBe('TEAM_NOT_FOUND');
    expect((await a.admin.post('/api/users', { email: 'x@test.example', name: 'x', role: 'employee', password: 'long-enough-pw', teamId: bTeam.id })).status).toBe(422);
    const listed = (await a.admin.get('/api/users')).body.items.map((u: { id: string }) => u.id);
    expect(listed).not.toContain(bUser.id);
    expect((await b.admin.get(`/api/users/${bUser.id}`)).body.name).toBe('Test ops');
  });

  it('takes a disabled user or a changed role into account at once, token or not', async () => {
    const t = await signupTenant(ctx.http);
    const ops = await addUser(t, ctx.http, 'ops');
    const someId = '00000000-0000-4000-8000-000000000000';
    expect((await ops.client.get(`/api/round-trips/${someId}`)).body.code).toBe('ROUND_TRIP_NOT_FOUND');
    await t.admin.patch(`/api/users/${ops.id}`, { role: 'employee' });
    expect((await ops.client.get(`/api/round-trips/${someId}`)).status).toBe(403);
    await t.admin.delete(`/api/users/${ops.id}`);
    expect((await ops.client.get('/api/auth/me')).status).toBe(401);
    expect((await ctx.http.post('/api/auth/login', { email: ops.email, password: 'anything-at-all' })).status).toBe(401);
  });

  it('creates an API key shown once, stores only its hash, authenticates with it and revokes it', async () => {
    const t = await signupTenant(ctx.http);
    const created = await t.admin.post('/api/api-keys', { name: 'CRM sync', role: 'admin' });
    expect(created.status).toBe(201);
    const { key, id, prefix } = created.body;
    expect(key).toMatch(new RegExp(`^sop_${prefix}_`));
    const secret = key.slice(`sop_${prefix}_`.length); // base64url: it may itself contain '_'
    const listed = await t.admin.get('/api/api-keys');
    expect(listed.body.items).toEqual([expect.objectContaining({ id, prefix, revokedAt: null })]);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    const [row] = await ctx.stack.db.query('SELECT secret_hash FROM api_keys WHERE id = $1', [id]);
    expect(row.secret_hash).not.toContain(secret);

    const viaKey = ctx.http.withApiKey(key);
    const me = await viaKey.get('/api/auth/me');
    expect(me.body).toMatchObject({ apiKeyId: id, role: 'admin', userId: null });
    expect((await viaKey.get('/api/users')).status).toBe(200);

    const revoked = await t.admin.delete(`/api/api-keys/${id}`);
    expect(revoked.body.revokedAt).toBeTruthy();
    const again = await t.admin.delete(`/api/api-keys/${id}`);
    expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
    expect((await viaKey.get('/api/auth/me')).status).toBe(401);
    expect((await ctx.http.withApiKey(`${key.slice(0, -1)}x`).get('/api/auth/me')).status).toBe(401);
  });
});
