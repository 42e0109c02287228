import { enrollEntrants, materializeDuePage } from '@sop/engine';
import { zoneWithOpenWindow } from '../support/clock';
import { eventKey, sendEvents } from '../support/events';
import { createTagSystem } from '../support/fixtures';
import { AS_CUSTOMER, addUser, signupTenant } from '../support/http';
import { useStack } from '../support/stack';

describe('response rules turn responses into behaviour tags (real Postgres)', () => {
  const ctx = useStack();

  /** A journey on Product B with one task per contact (a coupon to send), materialized now. */
  async function world() {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const employee = await addUser(t, ctx.http, 'employee');
    const segment = (await t.admin.post('/api/segments', { name: 'Product A fans', rule: { tag: tags.productA.id } })).body;
    const contact = (await t.admin.post('/api/contacts', {
      externalId: 'wx_1', name: '王女士', ownerId: employee.id, tags: [tags.productA.id, tags.intentLow.id],
      timezone: zoneWithOpenWindow() })).body; // in a zone where the all-day window (00:00-23:59) is open for hours yet (test/support/clock.ts)
    const sop = (await t.admin.post('/api/sops', { name: 'Product B launch 新品B上市', definition: {
      kind: 'journey', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
      steps: [{ name: 'Introduce Product B', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat',
        content: { template: '{{ contact.name }}，B产品上市了', materials: [{ title: 'Coupon 优惠券', url: 'https://shop.example/coupon' }] },
        executor: { rule: 'contactOwner' } }],
      policies: { businessDaysOnly: false },
    } })).body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    await enrollEntrants(ctx.stack.db, sop.id, new Date());
    await materializeDuePage(ctx.stack.db, sop.id, new Date(), 100);
    const [{ id: taskId }] = await ctx.stack.db.query(`SELECT id::text FROM tasks WHERE sop_id = $1 AND contact_id = $2`, [sop.id, contact.id]);
    const tagsOf = async () => (await t.admin.get(`/api/contacts/${contact.id}`)).body.tags
      .map((x: { name: string; weight: number | null }) => [x.name, x.weight]).sort();
    return { t, tags, employee, contact, sop, segment, taskId, tagsOf };
  }

  it('validates rules with JSON paths, lets managers read them, and protects the tags and SOPs they use', async () => {
    const { t, tags, sop, segment } = await world();
    const manager = await addUser(t, ctx.http, 'manager');
    const employee = await addUser(t, ctx.http, 'employee');
    const unknown = '00000000-0000-4000-8000-000000000000';
    const bad = await t.admin.post('/api/response-rules', { name: 'Bad', when: { kind: 'custom', outcome: 'interested', sopId: unknown, stepIndex: 0 },
      then: { addTagIds: [unknown, tags.intentHigh.id, tags.intentLow.id], removeTagIds: [tags.intentHigh.id] } });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('RESPONSE_RULE_INVALID');
    expect(bad.body.details).toEqual([
      { path: 'when.outcome', problem: 'applies only to kind "outcome"' },
      { path: 'when.sopId', problem: 'no such SOP (or it is archived)' },
      { path: 'then.addTagIds[0]', problem: 'no such tag' },
      { path: 'then.addTagIds[1]', problem: 'is also in then.removeTagIds' },
      { path: 'then.addTagIds[2]', problem: 'a second tag of the exclusive group "Purchase intent 购买意向"' },
    ]);
    const step = await t.admin.post('/api/response-rules', { name: 'Step', when: { kind: 'outcome', sopId: sop.id, stepIndex: 3 }, then: {} });
    expect(step.body.details).toEqual([{ path: 'when.stepIndex', problem: 'the SOP has 1 step(s): 0 to 0' }, { path: 'then', problem: 'add or remove at least one tag' }]);
    expect((await t.admin.post('/api/response-rules', { name: 'x', when: { kind: 'waved' }, then: { addTagIds: [tags.productB.id] } })).body)
      .toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'when.kind' }] });

    const rule = { name: 'Interested in B 对B感兴趣', when: { kind: 'outcome', outcome: 'interested', sopId: sop.id.toUpperCase(), stepIndex: 0 },
      then: { addTagIds: [tags.productB.id, tags.intentHigh.id] } };
    const created = await t.admin.post('/api/response-rules', rule);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ enabled: true, when: { kind: 'outcome', outcome: 'interested', sopId: sop.id, stepIndex: 0 },
      then: { addTagIds: [tags.productB.id, tags.intentHigh.id], removeTagIds: [] } });
    expect((await t.admin.post('/api/response-rules', rule)).status).toBe(409);
    expect((await manager.client.get('/api/response-rules')).body.map((r: { id: string }) => r.id)).toEqual([created.body.id]);
    expect((await manager.client.get(`/api/response-rules/${created.body.id}`)).status).toBe(200);
    expect((await manager.client.post('/api/response-rules', { ...rule, name: 'y' })).status).toBe(403);
    expect((await employee.client.get('/api/response-rules')).status).toBe(403);
    expect((await (await signupTenant(ctx.http)).admin.get(`/api/response-rules/${created.body.id}`)).status).toBe(404);

    const deleteTag = await t.admin.delete(`/api/tags/${tags.productB.id}`);
    expect(deleteTag.status).toBe(409);
    expect(deleteTag.body.details).toEqual([{ path: `response-rules/${created.body.id}`, problem: 'response rule "Interested in B 对B感兴趣" uses it',
      kind: 'responseRule', name: 'Interested in B 对B感兴趣' }]);
    const draft = (await t.admin.post('/api/sops', { name: 'Draft', definition: { kind: 'journey', audience: { segmentId: segment.id },
      steps: [{ name: 's', offsetDays: 0, window: { start: '09:00', end: '18:00' }, channel: 'sms', content: { template: 'hi' }, executor: { rule: 'contactOwner' } }] } })).body;
    const onDraft = (await t.admin.post('/api/response-rules', { name: 'On draft', when: { kind: 'opened', sopId: draft.id }, then: { removeTagIds: [tags.productA.id] } })).body;
    expect((await t.admin.delete(`/api/sops/${draft.id}`)).body).toMatchObject({ code: 'SOP_IN_USE', details: [{ path: `response-rules/${onDraft.id}`, kind: 'responseRule', name: 'On draft' }] });
    expect((await t.admin.put(`/api/response-rules/${onDraft.id}`, { name: 'On draft', enabled: false, when: { kind: 'opened' }, then: { removeTagIds: [tags.productA.id] } })).body)
      .toMatchObject({ enabled: false, when: { kind: 'opened' } });
    expect((await t.admin.delete(`/api/sops/${draft.id}`)).status).toBe(204);
    expect((await t.admin.delete(`/api/response-rules/${onDraft.id}`)).status).toBe(204);
    expect((await t.admin.delete(`/api/response-rules/${onDraft.id}`)).status).toBe(404);
  });

  it('an executor\'s "interested" in a Product B step adds Product B and sets intent to high, in the same transaction as the outcome', async () => {
    const { t, tags, employee, contact, sop, taskId, tagsOf } = await world();
    const rule = (await t.admin.post('/api/response-rules', { name: 'Interested in B 对B感兴趣',
      when: { kind: 'outcome', outcome: 'interested', sopId: sop.id, stepIndex: 0 }, then: { addTagIds: [tags.productB.id, tags.intentHigh.id] } })).body;
    await t.admin.post('/api/response-rules', { name: 'Not this step', when: { kind: 'outcome', outcome: 'interested', sopId: sop.id, stepIndex: 0 },
      then: { addTagIds: [tags.productA.id] }, enabled: false });
    expect(await tagsOf()).toEqual([['Low 低', null], ['Product A', null]]);

    const done = await employee.client.post(`/api/inbox/tasks/${taskId}/complete`, { outcome: 'interested', note: '想了解价格' });
    expect(done.status).toBe(200);
    expect(await tagsOf()).toEqual([['High 高', 80], ['Product A', null], ['Product B', null]]);
    const events = await ctx.stack.db.query(
      `SELECT t.name, e.action, e.actor_type, e.actor_id, e.reason FROM tag_events e JOIN tags t ON t.id = e.tag_id
        WHERE e.contact_id = $1 AND e.actor_type = 'response' ORDER BY t.name, e.action`, [contact.id]);
    const reason = 'response rule "Interested in B 对B感兴趣"';
    expect(events).toEqual([
      { name: 'High 高', action: 'added', actor_type: 'response', actor_id: rule.id, reason },
      { name: 'Low 低', action: 'removed', actor_type: 'response', actor_id: rule.id, reason },
      { name: 'Product B', action: 'added', actor_type: 'response', actor_id: rule.id, reason },
    ]);
    const [response] = await ctx.stack.db.query(`SELECT kind, source, outcome, task_id::text, sop_id, step_index, data FROM responses WHERE contact_id = $1`, [contact.id]);
    expect(response).toEqual({ kind: 'outcome', source: 'outcome', outcome: 'interested', task_id: taskId, sop_id: sop.id, step_index: 0, data: { note: '想了解价格' } });
    const [{ n }] = await ctx.stack.db.query(`SELECT count(*)::int AS n FROM domain_events WHERE type = 'contact.tags_changed' AND payload->'contactIds' ? $1`, [contact.id]);
    expect(n).toBeGreaterThanOrEqual(2); // the creation's tags, then the rule's

    // Repeating the completion records nothing new.
    expect((await employee.client.post(`/api/inbox/tasks/${taskId}/complete`, { outcome: 'interested' })).status).toBe(200);
    expect((await ctx.stack.db.query(`SELECT count(*)::int AS n FROM responses WHERE contact_id = $1`, [contact.id]))[0].n).toBe(1);
    const timeline = (await t.admin.get(`/api/contacts/${contact.id}/timeline`)).body;
    expect(timeline.find((e: { type: string }) => e.type === 'response.outcome').detail).toMatchObject({ outcome: 'interested', sopId: sop.id, stepIndex: 0 });
    const detail = (await employee.client.get(`/api/inbox/tasks/${taskId}`)).body;
    expect(detail.lastResponses).toEqual([expect.objectContaining({ kind: 'outcome', outcome: 'interested', source: 'outcome' })]);
  });

  it('a tracked-link open of a named material applies a weighted tag; other outcomes and materials do not match', async () => {
    const { t, tags, employee, taskId, tagsOf } = await world();
    await t.admin.post('/api/response-rules', { name: 'Opened the coupon', when: { kind: 'opened', material: 'Coupon 优惠券' },
      then: { addTagIds: [tags.intentHigh.id], weight: 95 } });
    await t.admin.post('/api/response-rules', { name: 'Opened something else', when: { kind: 'opened', material: 'Catalogue' },
      then: { addTagIds: [tags.productB.id] } });
    const path = (await employee.client.get(`/api/inbox/tasks/${taskId}`)).body.materials[0].trackedPath;
    const res = await fetch(`${ctx.stack.baseUrl}${path}`, AS_CUSTOMER);
    expect(res.status).toBe(302);
    expect(await tagsOf()).toEqual([['High 高', 95], ['Product A', null]]);
    const [response] = await ctx.stack.db.query(`SELECT kind, source, material, task_id::text FROM responses WHERE task_id = $1`, [taskId]);
    expect(response).toEqual({ kind: 'opened', source: 'link', material: 'Coupon 优惠券', task_id: taskId });
  });

  it('custom events and purchases match by name and amount', async () => {
    const { t, tags, tagsOf } = await world();
    const key = await eventKey(t);
    await t.admin.post('/api/response-rules', { name: 'Redeemed', when: { kind: 'custom', eventName: 'coupon.redeemed' }, then: { addTagIds: [tags.productB.id] } });
    await t.admin.post('/api/response-rules', { name: 'Big order', when: { kind: 'bought', minAmount: 1000 }, then: { addTagIds: [tags.intentHigh.id] } });
    await sendEvents(ctx.http, key, { events: [
      { id: 'e1', type: 'custom', name: 'coupon.viewed', externalId: 'wx_1' },
      { id: 'e2', type: 'purchase', externalId: 'wx_1', data: { orderId: 'A1', amount: 999.99, currency: 'CNY' } },
    ] });
    expect(await tagsOf()).toEqual([['Low 低', null], ['Product A', null]]);
    const res = await sendEvents(ctx.http, key, { events: [
      { id: 'e3', type: 'custom', name: 'coupon.redeemed', externalId: 'wx_1', data: { coupon: 'B-50' } },
      { id: 'e4', type: 'purchase', externalId: 'wx_1', data: { orderId: 'A2', amount: 1000, currency: 'CNY' } },
    ] });
    expect(res.body.accepted).toBe(2);
    expect(await tagsOf()).toEqual([['High 高', 80], ['Product A', null], ['Product B', null]]);
  });
});
