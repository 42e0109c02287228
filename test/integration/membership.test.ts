import { evaluateMemberships } from '@sop/engine';
import { createTagSystem } from '../support/fixtures';
import { signupTenant } from '../support/http';
import { useStack } from '../support/stack';

describe('incremental segment membership (real Postgres)', () => {
  const ctx = useStack();

  const openMembers = async (segmentId: string) =>
    (await ctx.stack.db.query(`SELECT contact_id FROM segment_memberships WHERE segment_id = $1 AND exited_at IS NULL`, [segmentId]))
      .map((r: { contact_id: string }) => r.contact_id);
  const events = async (tenantId: string, type: string) =>
    (await ctx.stack.db.query(`SELECT payload FROM domain_events WHERE tenant_id = $1 AND type = $2 ORDER BY id`, [tenantId, type]))
      .map((r: { payload: unknown }) => r.payload);

  it('populates a new segment, then enters and exits contacts exactly once as their tags change', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const a = (await t.admin.post('/api/contacts', { externalId: 'a', tags: [tags.intentHigh.id] })).body;
    const b = (await t.admin.post('/api/contacts', { externalId: 'b', tags: [tags.intentLow.id] })).body;
    const [{ tenant_id: tenantId }] = await ctx.stack.db.query('SELECT tenant_id FROM contacts WHERE id = $1', [a.id]);

    const seg = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    expect(await openMembers(seg.id)).toEqual([a.id]);
    expect(await events(tenantId, 'segment.populated')).toEqual([{ segmentId: seg.id, entered: 1, exited: 0 }]);

    // b becomes high intent (the exclusive group drops Low); a loses it.
    await t.admin.post(`/api/contacts/${b.id}/tags`, { add: [tags.intentHigh.id] });
    await t.admin.post(`/api/contacts/${a.id}/tags`, { remove: [tags.intentHigh.id] });
    expect(await openMembers(seg.id)).toEqual([b.id]);
    expect(await events(tenantId, 'segment.entered')).toEqual([{ segmentId: seg.id, contactIds: [b.id] }]);
    expect(await events(tenantId, 'segment.exited')).toEqual([{ segmentId: seg.id, contactIds: [a.id] }]);

    // Evaluating again, twice at once, changes nothing and announces nothing.
    await Promise.all([evaluateMemberships(ctx.stack.db, tenantId, [a.id, b.id]), evaluateMemberships(ctx.stack.db, tenantId, [a.id, b.id])]);
    expect(await events(tenantId, 'segment.entered')).toHaveLength(1);
    const history = await ctx.stack.db.query(
      `SELECT contact_id, exited_at IS NOT NULL AS closed FROM segment_memberships WHERE segment_id = $1 ORDER BY id`, [seg.id],
    );
    expect(history).toEqual([{ contact_id: a.id, closed: true }, { contact_id: b.id, closed: false }]);
  });

  it('moves contacts when attributes, metrics or group membership change', async () => {
    const t = await signupTenant(ctx.http);
    const c = (await t.admin.post('/api/contacts', { externalId: 'c', attributes: { region: 'Beijing' } })).body;
    const group = (await t.admin.post('/api/groups', { name: 'VIP' })).body;
    const shanghai = (await t.admin.post('/api/segments', { name: 'Shanghai', rule: { attribute: { key: 'region', op: 'eq', value: 'Shanghai' } } })).body;
    const buyers = (await t.admin.post('/api/segments', { name: 'Buyers', rule: { metric: { name: 'orderCount', op: 'gte', value: 2 } } })).body;
    const vip = (await t.admin.post('/api/segments', { name: 'VIP group', rule: { group: { any: [group.id] } } })).body;
    expect([await openMembers(shanghai.id), await openMembers(buyers.id), await openMembers(vip.id)]).toEqual([[], [], []]);
    await t.admin.patch(`/api/contacts/${c.id}`, { attributes: { region: 'Shanghai' }, orderCount: 2 });
    await t.admin.post(`/api/groups/${group.id}/members`, { add: [c.id] });
    expect([await openMembers(shanghai.id), await openMembers(buyers.id), await openMembers(vip.id)]).toEqual([[c.id], [c.id], [c.id]]);
  });
});
