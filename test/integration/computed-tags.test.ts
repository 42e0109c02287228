import { signupTenant, type TenantFixture } from '../support/http';
import { useStack } from '../support/stack';

describe('computed tags (real Postgres)', () => {
  const ctx = useStack();

  async function tiers(t: TenantFixture) {
    const group = (await t.admin.post('/api/tag-groups', { name: 'Spend tier 消费分层', exclusive: true })).body;
    const gold = (await t.admin.post('/api/tags', { groupId: group.id, name: 'Gold', kind: 'computed' })).body;
    const silver = (await t.admin.post('/api/tags', { groupId: group.id, name: 'Silver', kind: 'computed' })).body;
    return { group, gold, silver };
  }
  const tagNames = async (t: TenantFixture, id: string) =>
    (await t.admin.get(`/api/contacts/${id}`)).body.tags.map((x: { name: string }) => x.name);

  it('tiers contacts by spend when the rule is saved, and follows every change of the inputs', async () => {
    const t = await signupTenant(ctx.http);
    const { group, gold, silver } = await tiers(t);
    const ids: string[] = [];
    for (const spend30d of [1500, 500, 100]) ids.push((await t.admin.post('/api/contacts', { externalId: `s${spend30d}`, spend30d })).body.id);
    const rule = await t.admin.post('/api/computed-tags', {
      name: '30-day spend tiers', groupId: group.id,
      cases: [
        { tagId: gold.id, when: { metric: { name: 'spend30d', op: 'gte', value: 1000 } } },
        { tagId: silver.id, when: { metric: { name: 'spend30d', op: 'gte', value: 300 } } },
      ],
    });
    expect(rule.status).toBe(201);
    expect(rule.body.changedContacts).toBe(2);
    expect([await tagNames(t, ids[0]), await tagNames(t, ids[1]), await tagNames(t, ids[2])]).toEqual([['Gold'], ['Silver'], []]);

    const goldSegment = (await t.admin.post('/api/segments', { name: 'Gold customers', rule: { tag: gold.id } })).body;
    await t.admin.patch(`/api/contacts/${ids[1]}`, { spend30d: 1200 });
    await t.admin.patch(`/api/contacts/${ids[0]}`, { spend30d: 50 });
    expect([await tagNames(t, ids[0]), await tagNames(t, ids[1])]).toEqual([[], ['Gold']]);
    expect((await t.admin.get(`/api/segments/${goldSegment.id}/members`)).body.items.map((m: { id: string }) => m.id)).toEqual([ids[1]]);
    const timeline = (await t.admin.get(`/api/contacts/${ids[1]}/timeline`)).body;
    expect(timeline.slice(0, 2).map((e: { type: string; detail: { tag: string; by: string } }) => `${e.type} ${e.detail.tag} by ${e.detail.by}`).sort())
      .toEqual(['tag.added Gold by rule', 'tag.removed Silver by rule']);

    const imported = await t.admin.request('POST', '/api/imports/contacts', 'external_id,spend_30d\ns100,400\n', { 'content-type': 'text/csv' });
    expect(imported.body.importedRows).toBe(1);
    expect(await tagNames(t, ids[2])).toEqual(['Silver']);

    // Changing the rule re-applies it to everyone.
    const stricter = await t.admin.request('PUT', `/api/computed-tags/${rule.body.id}`, {
      name: '30-day spend tiers', groupId: group.id, cases: [{ tagId: gold.id, when: { metric: { name: 'spend30d', op: 'gte', value: 2000 } } }],
    });
    expect(stricter.body.changedContacts).toBe(2);
    expect([await tagNames(t, ids[1]), await tagNames(t, ids[2])]).toEqual([[], []]);
  });

  it('validates the group, the case tags and each condition at its path', async () => {
    const t = await signupTenant(ctx.http);
    const { group, gold } = await tiers(t);
    const open = (await t.admin.post('/api/tag-groups', { name: 'Interests', exclusive: false })).body;
    const res = await t.admin.post('/api/computed-tags', {
      name: 'bad', groupId: open.id,
      cases: [{ tagId: gold.id, when: { metric: { name: 'spend30d', op: 'about', value: 1 } } }],
    });
    expect(res.status).toBe(422);
    expect(res.body.details).toEqual([
      { path: 'groupId', problem: 'must be an exclusive group (one computed tag per contact)' },
      { path: 'cases[0].tagId', problem: "must be a tag of the rule's group" },
      { path: 'cases[0].when.metric.op', problem: expect.stringMatching(/^must be one of/) },
    ]);
    const ok = { name: 'tiers', groupId: group.id, cases: [{ tagId: gold.id, when: { metric: { name: 'orderCount', op: 'gte', value: 5 } } }] };
    expect((await t.admin.post('/api/computed-tags', ok)).status).toBe(201);
    expect((await t.admin.post('/api/computed-tags', ok)).body.code).toBe('GROUP_HAS_RULE');
  });

  it("refuses deleting a tag a rule gives or tests, so contact changes keep working", async () => {
    const t = await signupTenant(ctx.http);
    const { group, gold, silver } = await tiers(t);
    const vip = (await t.admin.post('/api/tag-groups', { name: 'VIP' })).body;
    const vipTag = (await t.admin.post('/api/tags', { groupId: vip.id, name: 'VIP member' })).body;
    await t.admin.post('/api/computed-tags', {
      name: 'VIP gold', groupId: group.id, cases: [{ tagId: gold.id, when: { tag: vipTag.id } }],
    });
    for (const tag of [gold, vipTag]) {
      const refused = await t.admin.delete(`/api/tags/${tag.id}`);
      expect(refused.status).toBe(409);
      expect(refused.body.message).toContain('computed tag rule "VIP gold"');
    }
    expect((await t.admin.delete(`/api/tags/${silver.id}`)).status).toBe(204);
    const c = (await t.admin.post('/api/contacts', { externalId: 'v1', tags: [vipTag.id] })).body;
    expect(c.tags.map((x: { name: string }) => x.name).sort()).toEqual(['Gold', 'VIP member']);
  });
});
