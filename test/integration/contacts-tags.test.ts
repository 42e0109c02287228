import { randomUUID } from 'node:crypto';
import { createTagSystem } from '../support/fixtures';
import { addUser, signupTenant, type TenantFixture } from '../support/http';
import { useStack } from '../support/stack';

describe('contacts and tags (real Postgres)', () => {
  const ctx = useStack();

  const newContact = async (t: TenantFixture, extra: Record<string, unknown> = {}) => {
    const res = await t.admin.post('/api/contacts', { externalId: `ext-${randomUUID()}`, name: '陈静', ...extra });
    if (res.status !== 201) throw new Error(JSON.stringify(res.body));
    return res.body;
  };

  it('creates a contact with owner, attributes, metrics and tags, and reads it back', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    const c = await newContact(t, {
      ownerId: owner.id, timezone: 'Asia/Shanghai', attributes: { region: 'Shanghai', ageBand: '25-34', vip: true },
      orderCount: 3, totalSpend: 1280.5, lastContactedAt: '2026-11-01T08:00:00Z', tags: [tags.intentHigh.id, tags.productB.id],
    });
    expect(c).toMatchObject({ ownerId: owner.id, orderCount: 3, totalSpend: 1280.5, attributes: { region: 'Shanghai', vip: true } });
    expect(c.tags.map((x: { name: string }) => x.name)).toEqual(['High 高', 'Product B']);
    expect(c.tags[0].weight).toBe(80);
    const [row] = await ctx.stack.db.query('SELECT tag_nums FROM contacts WHERE id = $1', [c.id]);
    expect(row.tag_nums).toHaveLength(2);
  });

  it('keeps one tag of an exclusive group: applying High removes Low, with a tag event for each change', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const c = await newContact(t, { tags: [tags.intentLow.id, tags.productA.id] });
    const res = await t.admin.post(`/api/contacts/${c.id}/tags`, { add: [tags.intentHigh.id], reason: 'asked for a quote' });
    expect(res.status).toBe(200);
    expect(res.body.tags.map((x: { name: string }) => x.name).sort()).toEqual(['High 高', 'Product A']);
    const again = await t.admin.post(`/api/contacts/${c.id}/tags`, { add: [tags.intentHigh.id], reason: 'asked for a quote' });
    expect(again.body.tags).toEqual(res.body.tags);
    const timeline = (await t.admin.get(`/api/contacts/${c.id}/timeline`)).body;
    const changes = timeline.map((e: { type: string; detail: { tag: string } }) => `${e.type} ${e.detail.tag}`);
    expect(changes.sort()).toEqual(['tag.added High 高', 'tag.added Low 低', 'tag.added Product A', 'tag.removed Low 低']);
    const [{ nums }] = await ctx.stack.db.query(
      `SELECT (SELECT array_agg(num ORDER BY num) FROM tags WHERE id = ANY($2::uuid[])) AS nums FROM contacts WHERE id = $1`,
      [c.id, [tags.intentHigh.id, tags.productA.id]],
    );
    const [{ tag_nums }] = await ctx.stack.db.query('SELECT tag_nums FROM contacts WHERE id = $1', [c.id]);
    expect(tag_nums).toEqual(nums);
  });

  it('tags many contacts at once and counts only real changes', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await newContact(t, i < 2 ? { tags: [tags.productB.id] } : {})).id);
    const res = await t.admin.post('/api/contacts/bulk-tags', { contactIds: ids, add: [tags.productB.id], remove: [tags.productA.id] });
    expect(res.body).toEqual({ contacts: 5, added: 3, removed: 0 });
    const repeat = await t.admin.post('/api/contacts/bulk-tags', { contactIds: ids, add: [tags.productB.id] });
    expect(repeat.body).toEqual({ contacts: 5, added: 0, removed: 0 });
    const [{ n }] = await ctx.stack.db.query(`SELECT count(*)::int AS n FROM domain_events WHERE tenant_id = (SELECT tenant_id FROM contacts WHERE id = $1) AND type = 'contact.tags_changed'`, [ids[0]]);
    expect(n).toBe(3); // two creations with tags and the bulk change; the repeat announced nothing
  });

  it('tags every member of a segment at once, and needs exactly one of contactIds or segmentId', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const wantsB = [];
    for (let i = 0; i < 3; i++) wantsB.push((await newContact(t, { tags: [tags.productB.id] })).id);
    const other = (await newContact(t)).id;
    const seg = (await t.admin.post('/api/segments', { name: 'Wants B', rule: { tag: tags.productB.id } })).body;
    const res = await t.admin.post('/api/contacts/bulk-tags', { segmentId: seg.id, add: [tags.intentHigh.id], reason: 'campaign' });
    expect(res.body).toEqual({ contacts: 3, added: 3, removed: 0 });
    for (const id of wantsB) expect((await t.admin.get(`/api/contacts/${id}`)).body.tags.map((x: { name: string }) => x.name)).toContain('High 高');
    expect((await t.admin.get(`/api/contacts/${other}`)).body.tags).toEqual([]);
    const both = await t.admin.post('/api/contacts/bulk-tags', { segmentId: seg.id, contactIds: [other], add: [tags.intentHigh.id] });
    expect(both.status).toBe(400);
    expect((await t.admin.post('/api/contacts/bulk-tags', { add: [tags.intentHigh.id] })).status).toBe(400);
  });

  it('refuses two tags of one exclusive group, unknown tags and another tenant\'s tags, naming each', async () => {
    const t = await signupTenant(ctx.http);
    const other = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const { tags: foreign } = await createTagSystem(other.admin);
    const c = await newContact(t);
    const res = await t.admin.post(`/api/contacts/${c.id}/tags`, {
      add: [tags.intentLow.id, tags.intentHigh.id, foreign.productA.id], remove: [randomUUID()],
    });
    expect(res.status).toBe(422);
    expect(res.body.details).toEqual(expect.arrayContaining([
      { path: 'add[2]', problem: 'no such tag' },
      { path: 'remove[0]', problem: 'no such tag' },
    ]));
    const exclusive = await t.admin.post(`/api/contacts/${c.id}/tags`, { add: [tags.intentLow.id, tags.intentHigh.id] });
    expect(exclusive.body.details).toEqual([{ path: 'add[1]', problem: 'a second tag of the exclusive group "Purchase intent 购买意向"' }]);
    expect((await t.admin.get(`/api/contacts/${c.id}`)).body.tags).toEqual([]);
  });

  it('validates contacts at the edge: attribute keys, time zones, owners, duplicates', async () => {
    const t = await signupTenant(ctx.http);
    const c = await newContact(t, { externalId: 'dup-1' });
    const dup = await t.admin.post('/api/contacts', { externalId: 'dup-1' });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('CONTACT_EXISTS');
    const bad = await t.admin.post('/api/contacts', {
      externalId: 'x', timezone: 'Mars/Olympus', attributes: { "bad key'; DROP TABLE contacts;--": 1 }, orderCount: -1,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { path: string }) => d.path).sort()).toEqual(['attributes', 'orderCount', 'timezone']);
    const other = await signupTenant(ctx.http);
    const foreignUser = await addUser(other, ctx.http, 'employee');
    const owner = await t.admin.patch(`/api/contacts/${c.id}`, { ownerId: foreignUser.id });
    expect(owner.status).toBe(422);
    expect(owner.body.details).toEqual([{ path: 'ownerId', problem: 'no such active user' }]);
    expect((await other.admin.get(`/api/contacts/${c.id}`)).status).toBe(404);
    expect((await t.admin.patch(`/api/contacts/${randomUUID()}`, { name: 'x' })).status).toBe(404);
  });

  it('refuses to delete a tag a segment uses, naming the segment; deletes an unused one from every contact', async () => {
    const t = await signupTenant(ctx.http);
    const { groups, tags } = await createTagSystem(t.admin);
    const c = await newContact(t, { tags: [tags.productA.id, tags.productB.id] });
    const [{ tenant_id }] = await ctx.stack.db.query('SELECT tenant_id FROM contacts WHERE id = $1', [c.id]);
    const [segment] = await ctx.stack.db.query(`INSERT INTO segments (tenant_id, name, rule, tag_ids) VALUES ($1, 'Wants B 想要B', $2, $3) RETURNING id`, [
      tenant_id, { tag: tags.productB.id }, [tags.productB.id],
    ]);
    const code = await t.admin.post('/api/source-codes', { code: 'XHS-B', name: 'Xiaohongshu', tagIds: [tags.productB.id] });
    expect(code.status).toBe(201);
    const refused = await t.admin.delete(`/api/tags/${tags.productB.id}`);
    expect(refused.status).toBe(409);
    // each user of the tag: its path and an English problem for people, its kind and name for a client to word itself
    expect(refused.body).toMatchObject({
      code: 'TAG_IN_USE', message: 'In use by segment "Wants B 想要B", source code "XHS-B". Change them first.',
      details: [
        { path: `segments/${segment.id}`, problem: 'segment "Wants B 想要B" uses it', kind: 'segment', name: 'Wants B 想要B' },
        { path: `source-codes/${code.body.id}`, problem: 'source code "XHS-B" uses it', kind: 'sourceCode', name: 'XHS-B' },
      ],
    });
    // the group's delete names the users of any of its tags the same way
    expect((await t.admin.delete(`/api/tag-groups/${groups.product.id}`)).body.details.map((d: { kind: string; name: string }) => [d.kind, d.name]))
      .toEqual([['segment', 'Wants B 想要B'], ['sourceCode', 'XHS-B']]);
    expect((await t.admin.delete(`/api/tags/${tags.productA.id}`)).status).toBe(204);
    expect((await t.admin.get(`/api/contacts/${c.id}`)).body.tags.map((x: { name: string }) => x.name)).toEqual(['Product B']);
  });

  it('lets employees read the tag system but not change it or read contacts', async () => {
    const t = await signupTenant(ctx.http);
    await createTagSystem(t.admin);
    const employee = await addUser(t, ctx.http, 'employee');
    expect((await employee.client.get('/api/tag-groups')).body).toHaveLength(2);
    expect((await employee.client.post('/api/tag-groups', { name: 'x' })).status).toBe(403);
    expect((await employee.client.get('/api/contacts')).status).toBe(403);
  });

  it('filters the contact list by tags (all of them) and by owner, within the tenant', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    const make = async (externalId: string, tagIds: string[], ownerId?: string) =>
      expect((await t.admin.post('/api/contacts', { externalId, name: externalId, tags: tagIds, ownerId })).status).toBe(201);
    await make('f1', [tags.intentHigh.id, tags.productA.id], owner.id);
    await make('f2', [tags.intentHigh.id]);
    await make('f3', [tags.productA.id], owner.id);
    const ids = async (query: string) => (await t.admin.get(`/api/contacts?${query}`)).body.items.map((c: { externalId: string }) => c.externalId).sort();
    expect(await ids(`tagIds=${tags.intentHigh.id}`)).toEqual(['f1', 'f2']);
    expect(await ids(`tagIds=${tags.intentHigh.id},${tags.productA.id}`)).toEqual(['f1']);
    expect(await ids(`ownerId=${owner.id}`)).toEqual(['f1', 'f3']);
    expect(await ids(`ownerId=${owner.id}&tagIds=${tags.intentHigh.id}&q=f1`)).toEqual(['f1']);
    expect((await t.admin.get('/api/contacts?tagIds=nope')).status).toBe(400);
    const other = await signupTenant(ctx.http);
    expect((await other.admin.get(`/api/contacts?tagIds=${tags.intentHigh.id}`)).body.items).toEqual([]);
  });
});
