import { randomUUID } from 'node:crypto';
import { addUser, signupTenant } from '../support/http';
import { useStack } from '../support/stack';

describe('customer groups (real Postgres)', () => {
  const ctx = useStack();

  it('registers a group chat with its owner and manages members idempotently', async () => {
    const t = await signupTenant(ctx.http);
    const owner = await addUser(t, ctx.http, 'employee');
    const group = await t.admin.post('/api/groups', { name: 'VIP 群 1', ownerId: owner.id });
    expect(group.status).toBe(201);
    expect(group.body).toMatchObject({ name: 'VIP 群 1', ownerId: owner.id, memberCount: 0 });
    const contacts = [];
    for (let i = 0; i < 3; i++) contacts.push((await t.admin.post('/api/contacts', { externalId: `g-${randomUUID()}` })).body.id);
    const added = await t.admin.post(`/api/groups/${group.body.id}/members`, { add: contacts });
    expect(added.body.memberCount).toBe(3);
    expect((await t.admin.post(`/api/groups/${group.body.id}/members`, { add: contacts })).body.memberCount).toBe(3);
    const removed = await t.admin.post(`/api/groups/${group.body.id}/members`, { remove: [contacts[0]] });
    expect(removed.body.memberCount).toBe(2);
    expect((await t.admin.get('/api/groups')).body.items).toHaveLength(1);
  });

  it("refuses another tenant's contacts by path and keeps groups private", async () => {
    const a = await signupTenant(ctx.http);
    const b = await signupTenant(ctx.http);
    const group = (await a.admin.post('/api/groups', { name: 'A group' })).body;
    const foreign = (await b.admin.post('/api/contacts', { externalId: 'b-1' })).body.id;
    const res = await a.admin.post(`/api/groups/${group.id}/members`, { add: [foreign] });
    expect(res.status).toBe(422);
    expect(res.body.details).toEqual([{ path: 'add[0]', problem: 'no such contact' }]);
    expect((await b.admin.get(`/api/groups/${group.id}`)).status).toBe(404);
    expect((await b.admin.delete(`/api/groups/${group.id}`)).status).toBe(404);
    expect((await a.admin.delete(`/api/groups/${group.id}`)).status).toBe(204);
  });
});
