import { randomUUID } from 'node:crypto';
import { createTagSystem } from '../support/fixtures';
import { addUser, signupTenant } from '../support/http';
import { useStack } from '../support/stack';

describe('source channel codes (real Postgres)', () => {
  const ctx = useStack();

  it('gives a contact arriving through a code its tags and owner, once, and keeps an existing owner', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    const code = await t.admin.post('/api/source-codes', {
      code: 'XHS-D11', name: 'Xiaohongshu Double 11', tagIds: [tags.productB.id, tags.intentHigh.id], ownerId: owner.id,
    });
    expect(code.status).toBe(201);

    const joined = await t.admin.post('/api/contacts/join', { code: 'XHS-D11', externalId: 'wx-1', name: '陈静' });
    expect(joined.status).toBe(201);
    expect(joined.body).toMatchObject({ externalId: 'wx-1', name: '陈静', ownerId: owner.id });
    expect(joined.body.tags.map((x: { name: string }) => x.name)).toEqual(['High 高', 'Product B']);
    const again = await t.admin.post('/api/contacts/join', { code: 'XHS-D11', externalId: 'wx-1' });
    expect(again.status).toBe(200);
    expect(again.body.tags).toEqual(joined.body.tags);
    const timeline = (await t.admin.get(`/api/contacts/${joined.body.id}/timeline`)).body;
    expect(timeline).toHaveLength(2);
    expect(timeline[0].detail).toMatchObject({ by: 'source_code', reason: 'joined via XHS-D11' });

    const other = await addUser(t, ctx.http, 'employee');
    const known = (await t.admin.post('/api/contacts', { externalId: 'wx-2', ownerId: other.id })).body;
    const came = await t.admin.post('/api/contacts/join', { code: 'XHS-D11', externalId: 'wx-2' });
    expect(came.body).toMatchObject({ id: known.id, ownerId: other.id });
  });

  it('validates codes and refuses deleting a tag a code carries', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const bad = await t.admin.post('/api/source-codes', { code: 'bad code!', name: 'x', tagIds: [randomUUID()] });
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].path).toBe('code');
    const unknownTag = await t.admin.post('/api/source-codes', { code: 'OK', name: 'x', tagIds: [tags.productA.id, randomUUID()] });
    expect(unknownTag.body.details).toEqual([{ path: 'tagIds[1]', problem: 'no such tag' }]);
    await t.admin.post('/api/source-codes', { code: 'EVT-A', name: 'Event A', tagIds: [tags.productA.id] });
    expect((await t.admin.post('/api/source-codes', { code: 'EVT-A', name: 'dup' })).status).toBe(409);
    const refused = await t.admin.delete(`/api/tags/${tags.productA.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain('source code "EVT-A"');
    const unknownCode = await t.admin.post('/api/contacts/join', { code: 'NOPE', externalId: 'x' });
    expect(unknownCode.body).toMatchObject({ code: 'SOURCE_CODE_NOT_FOUND', details: [{ path: 'code', problem: 'no such source code' }] });
    const other = await signupTenant(ctx.http);
    expect((await other.admin.post('/api/contacts/join', { code: 'EVT-A', externalId: 'x' })).status).toBe(422);
  });
});
