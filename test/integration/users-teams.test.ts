import { addUser, signupTenant } from '../support/http';
import { useStack } from '../support/stack';

describe('users and teams CRUD (admin only, real Postgres)', () => {
  const ctx = useStack();

  it('builds a team with a manager and members, pages through users, and edits them', async () => {
    const t = await signupTenant(ctx.http);
    const manager = await addUser(t, ctx.http, 'manager');
    const team = await t.admin.post('/api/teams', { name: 'Shanghai 1', managerId: manager.id });
    expect(team.status).toBe(201);
    expect(team.body).toMatchObject({ name: 'Shanghai 1', managerId: manager.id });
    const employees = [];
    for (let i = 0; i < 3; i++) employees.push(await addUser(t, ctx.http, 'employee', { teamId: team.body.id }));

    const first = await t.admin.get('/api/users?limit=2');
    expect(first.body.items).toHaveLength(2);
    const second = await t.admin.get(`/api/users?limit=2&cursor=${first.body.nextCursor}`);
    const third = await t.admin.get(`/api/users?limit=2&cursor=${second.body.nextCursor}`);
    const ids = [...first.body.items, ...second.body.items, ...third.body.items].map((u: { id: string }) => u.id);
    expect(new Set(ids).size).toBe(5); // admin, manager, 3 employees: no repeats, none missing
    expect(third.body.nextCursor).toBeNull();

    const renamed = await t.admin.patch(`/api/users/${employees[0].id}`, { name: '王芳', teamId: null });
    expect(renamed.body).toMatchObject({ name: '王芳', teamId: null });
    const renamedTeam = await t.admin.patch(`/api/teams/${team.body.id}`, { name: 'Shanghai East' });
    expect(renamedTeam.body.name).toBe('Shanghai East');
  });

  it('keeps team names unique per tenant (409) and managers real (422 naming managerId)', async () => {
    const t = await signupTenant(ctx.http);
    await t.admin.post('/api/teams', { name: 'North' });
    const dup = await t.admin.post('/api/teams', { name: 'North' });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('TEAM_NAME_TAKEN');
    const employee = await addUser(t, ctx.http, 'employee');
    const bad = await t.admin.post('/api/teams', { name: 'South', managerId: employee.id });
    expect(bad.status).toBe(422);
    expect(bad.body.details).toEqual([{ path: 'managerId', problem: 'must be an active user with the role manager or admin' }]);
    expect((await t.admin.get('/api/teams')).body.items.map((x: { name: string }) => x.name)).toEqual(['North']);
    const other = await signupTenant(ctx.http);
    expect((await other.admin.post('/api/teams', { name: 'North' })).status).toBe(201);
  });

  it('deleting a team keeps its members, without a team', async () => {
    const t = await signupTenant(ctx.http);
    const team = (await t.admin.post('/api/teams', { name: 'Temp' })).body;
    const member = await addUser(t, ctx.http, 'employee', { teamId: team.id });
    expect((await t.admin.delete(`/api/teams/${team.id}`)).status).toBe(204);
    expect((await t.admin.get(`/api/users/${member.id}`)).body.teamId).toBeNull();
    expect((await t.admin.delete(`/api/teams/${team.id}`)).status).toBe(404);
  });

  it('validates ids, roles and emails at the edge with the field named', async () => {
    const t = await signupTenant(ctx.http);
    expect((await t.admin.get('/api/users/42')).body).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'id', problem: 'must be a UUID' }] });
    const bad = await t.admin.post('/api/users', { email: 'nope', name: 'x', role: 'owner', password: 'long-enough-pw' });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { path: string }) => d.path).sort()).toEqual(['email', 'role']);
    expect((await t.admin.get('/api/users?limit=0')).body.details[0].path).toBe('limit');
    expect((await t.admin.get('/api/users?cursor=garbage')).body.details[0].path).toBe('cursor');
  });

  it('stops an admin from locking themselves out', async () => {
    const t = await signupTenant(ctx.http);
    const me = (await t.admin.get('/api/auth/me')).body;
    const res = await t.admin.patch(`/api/users/${me.userId}`, { role: 'employee' });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('CANNOT_DEMOTE_SELF');
    expect((await t.admin.get('/api/auth/me')).body.role).toBe('admin');
  });

  it('refuses a duplicate email across tenants with 409 EMAIL_TAKEN', async () => {
    const a = await signupTenant(ctx.http);
    const b = await signupTenant(ctx.http);
    const res = await b.admin.post('/api/users', { email: a.email, name: 'x', role: 'ops', password: 'long-enough-pw' });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('EMAIL_TAKEN');
  });
});
