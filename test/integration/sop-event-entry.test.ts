import { enrollEntrants, journeysToWake, outboxEnd } from '@sop/engine';
import { createTagSystem } from '../support/fixtures';
import { addUser, signupTenant } from '../support/http';
import { useStack } from '../support/stack';

describe('journeys that start on an event (real Postgres)', () => {
  const ctx = useStack();

  it('enrolls contacts who arrive through a channel code, not those who were already in the segment', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    const code = (await t.admin.post('/api/source-codes', { code: 'XHS-DOUBLE11', name: '小红书双11', tagIds: [tags.productB.id], ownerId: owner.id })).body;
    const productB = (await t.admin.post('/api/segments', { name: 'Product B', rule: { tag: tags.productB.id } })).body;
    const step = { name: 'Welcome the newcomer', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat',
      content: { template: '欢迎 {{ contact.name }}' }, executor: { rule: 'contactOwner' } };
    const definition = { kind: 'journey', audience: { segmentId: productB.id }, entry: { event: 'contact.joined' }, steps: [step], policies: { businessDaysOnly: false } };

    const refused = await t.admin.post('/api/sops', { name: 'x', definition: { ...definition, entry: { event: 'contact.joined', includeExistingMembers: true } } });
    expect(refused.status).toBe(422);
    expect(refused.body.details).toEqual([{ path: 'definition.entry.includeExistingMembers', problem: 'a journey that starts on an event enrolls only on that event' }]);
    const unknown = await t.admin.post('/api/sops', { name: 'x', definition: { ...definition, entry: { event: 'order.paid' } } });
    expect(unknown.body.details[0].path).toBe('definition.entry.event');

    await t.admin.post('/api/contacts', { externalId: 'old', name: '老客', ownerId: owner.id, tags: [tags.productB.id] });
    const sop = (await t.admin.post('/api/sops', { name: 'Channel welcome 渠道欢迎', definition })).body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    const cursor = await outboxEnd(ctx.stack.db);
    expect(await enrollEntrants(ctx.stack.db, sop.id, new Date())).toBe(0);

    const joined = await t.admin.post('/api/contacts/join', { code: code.code, externalId: 'new', name: '新客' });
    expect(joined.status).toBe(201);
    expect((await journeysToWake(ctx.stack.db, cursor)).sopIds).toContain(sop.id);
    expect(await enrollEntrants(ctx.stack.db, sop.id, new Date())).toBe(1);
    expect(await enrollEntrants(ctx.stack.db, sop.id, new Date())).toBe(0);
    const enrolled = await ctx.stack.db.query(`SELECT contact_id FROM enrollments WHERE sop_id = $1`, [sop.id]);
    expect(enrolled).toEqual([{ contact_id: joined.body.id }]);
  });
});
