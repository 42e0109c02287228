import { applyExits, enrollEntrants, materializeDuePage } from '@sop/engine';
import { randomUUID } from 'node:crypto';
import { zoneWithOpenWindow } from '../support/clock';
import { createTagSystem } from '../support/fixtures';
import { addUser, AS_CUSTOMER, signupTenant, type TenantFixture } from '../support/http';
import { useStack } from '../support/stack';

const coupon = (extra: Record<string, unknown> = {}) => ({
  kind: 'coupon', title: '新品券 New-arrival coupon', url: 'https://shop.example/coupon', summary: '满 200 减 30', folder: '促销 Promotions', ...extra,
});

/** Issue 12: the material library, steps that pick from it, and where a running SOP's contacts are. */
describe('the material library (real Postgres and Temporal)', () => {
  const ctx = useStack();

  /** A journey for the high-intent segment whose step picks `materialId`, with one contact of e1 in it. */
  async function journeyPicking(t: TenantFixture, materialId: string, segmentId: string, name = 'Coupon journey') {
    return t.admin.post('/api/sops', { name, definition: {
      kind: 'journey', audience: { segmentId }, entry: { includeExistingMembers: true },
      steps: [
        { name: 'Send the coupon', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat',
          content: { template: '送您一张券', materials: [{ materialId, title: 'pasted title, replaced', url: 'https://pasted.example/' }] },
          executor: { rule: 'contactOwner' } },
        { name: 'Follow up', offsetDays: 30, window: { start: '09:00', end: '18:00' }, channel: 'wecom_chat', content: { template: '用了吗？' },
          executor: { rule: 'contactOwner' } },
      ],
      policies: { businessDaysOnly: false, exitOn: [{ on: 'replied' }] },
    } });
  }

  it('keeps materials per tenant, checks URLs and tags at their fields, lets ops write and everyone read', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const made = await t.admin.post('/api/materials', coupon({ tagIds: [tags.productB.id.toUpperCase()] }));
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ kind: 'coupon', folder: '促销 Promotions', tagIds: [tags.productB.id], coverUrl: null,
      stats: { sops: 0, sent: 0, opens: 0, openedContacts: 0 } });
    // a tag a material gives cannot be deleted from under it
    const inUse = await t.admin.delete(`/api/tags/${tags.productB.id}`);
    expect(inUse.status).toBe(409);
    expect(inUse.body).toMatchObject({ code: 'TAG_IN_USE', details: [{ path: `materials/${made.body.id}` }] });

    for (const [body, path] of [
      [coupon({ url: 'http://shop.example/coupon' }), 'url'], [coupon({ url: 'https://user:pass@shop.example/' }), 'url'],
      [coupon({ url: 'ftp://shop.example/' }), 'url'], [coupon({ coverUrl: 'http://img.example/a.png' }), 'coverUrl'],
      [coupon({ tagIds: [randomUUID()] }), 'tagIds[0]'],
    ] as const) {
      const res = await t.admin.post('/api/materials', body);
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', details: [expect.objectContaining({ path })] });
    }
    const badKind = await t.admin.post('/api/materials', coupon({ kind: 'video' }));
    expect(badKind.status).toBe(400);
    expect(badKind.body.details[0].path).toBe('kind');
    expect((await t.admin.put('/api/settings/materials', { allowHttp: true })).status).toBe(200);
    expect((await t.admin.post('/api/materials', coupon({ url: 'http://shop.example/coupon', title: 'HTTP ok now' }))).status).toBe(201);

    const employee = await addUser(t, ctx.http, 'employee');
    const manager = await addUser(t, ctx.http, 'manager');
    const ops = await addUser(t, ctx.http, 'ops');
    expect((await employee.client.post('/api/materials', coupon())).status).toBe(403);
    expect((await manager.client.put(`/api/materials/${made.body.id}`, coupon())).status).toBe(403);
    expect((await manager.client.delete(`/api/materials/${made.body.id}`)).status).toBe(403);
    const seenByEmployee = await employee.client.get(`/api/materials/${made.body.id}`);
    expect(seenByEmployee.status).toBe(200);
    expect(seenByEmployee.body.usage).toBeUndefined(); // which SOPs use it is for admins and ops
    expect((await ops.client.get(`/api/materials/${made.body.id}`)).body.usage).toEqual([]);
    expect((await ops.client.put(`/api/materials/${made.body.id}`, coupon({ title: 'Renamed 改名' }))).body.title).toBe('Renamed 改名');

    const other = await signupTenant(ctx.http);
    expect((await other.admin.get(`/api/materials/${made.body.id}`)).body.code).toBe('MATERIAL_NOT_FOUND');
    expect((await other.admin.put(`/api/materials/${made.body.id}`, coupon())).status).toBe(404);
    expect((await other.admin.delete(`/api/materials/${made.body.id}`)).status).toBe(404);
    expect((await other.admin.get('/api/materials')).body.items).toEqual([]);
    expect((await other.admin.post('/api/materials', coupon({ tagIds: [tags.productB.id] }))).body.details[0].path).toBe('tagIds[0]');
    // ids are per organization: another's id is free here, so nothing says that it exists elsewhere
    const sameId = await other.admin.post('/api/materials', coupon({ id: made.body.id }));
    expect([sameId.status, sameId.body.id]).toEqual([201, made.body.id]);
    expect((await t.admin.get(`/api/materials/${made.body.id}`)).body.title).toBe('Renamed 改名');
  });

  it('answers a repeated create with the first material (body id or Idempotency-Key)', async () => {
    const t = await signupTenant(ctx.http);
    const id = randomUUID();
    const first = await t.admin.post('/api/materials', coupon({ id }));
    const again = await t.admin.post('/api/materials', coupon({ id }));
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body.id).toBe(id);
    expect((await t.admin.post('/api/materials', coupon({ id, title: 'Something else' }))).body.code).toBe('MATERIAL_ID_REUSED');

    const key = { 'idempotency-key': `mat-${randomUUID()}` };
    const byKey = await t.admin.request('POST', '/api/materials', coupon({ kind: 'article', title: 'Guide' }), key);
    const byKeyAgain = await t.admin.request('POST', '/api/materials', coupon({ kind: 'article', title: 'Guide' }), key);
    expect([byKey.status, byKeyAgain.status]).toEqual([201, 200]);
    expect(byKeyAgain.body.id).toBe(byKey.body.id);
    const reused = await t.admin.request('POST', '/api/materials', coupon({ title: 'Other' }), key);
    expect(reused.body).toMatchObject({ code: 'MATERIAL_ID_REUSED', details: [{ path: 'Idempotency-Key' }] });
    expect((await t.admin.get('/api/materials')).body.items).toHaveLength(2);
    // a key must fit its unique index: a 400 naming the header, not Postgres's index row error
    const huge = await t.admin.request('POST', '/api/materials', coupon(), { 'idempotency-key': 'k'.repeat(4000) });
    expect([huge.status, huge.body.details]).toEqual([400, [{ path: 'Idempotency-Key', problem: 'must be 1 to 255 visible ASCII characters' }]]);
  });

  it('searches titles and summaries, filters by folder and kind, pages by keyset and lists folders', async () => {
    const t = await signupTenant(ctx.http);
    for (let i = 0; i < 5; i++) {
      await t.admin.post('/api/materials', coupon({ title: `Coupon ${i}`, kind: i % 2 ? 'article' : 'coupon', folder: i < 3 ? 'A' : '',
        summary: i === 4 ? '含 100% 折扣_说明' : '' }));
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { title: string }[]; nextCursor: string | null } } = await t.admin.get(`/api/materials?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.items.map((m) => m.title));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['Coupon 4', 'Coupon 3', 'Coupon 2', 'Coupon 1', 'Coupon 0']);
    const titles = async (q: string) => (await t.admin.get(`/api/materials?${q}`)).body.items.map((m: { title: string }) => m.title);
    expect(await titles('folder=A&kind=article')).toEqual(['Coupon 1']);
    expect(await titles('folder=')).toEqual(['Coupon 4', 'Coupon 3']);
    expect(await titles(`q=${encodeURIComponent('100%')}`)).toEqual(['Coupon 4']);
    expect(await titles('q=_')).toEqual(['Coupon 4']); // LIKE's wildcards are taken literally
    expect(await titles('q=coupon%202')).toEqual(['Coupon 2']);
    expect((await t.admin.get('/api/materials/folders')).body).toEqual([{ name: '', materials: 2 }, { name: 'A', materials: 3 }]);
    expect((await t.admin.get('/api/materials?cursor=nonsense')).status).toBe(400);
  });

  it('copies a picked material into the SOP, counts its opens, shows where it is used and republishes on request', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const e1 = await addUser(t, ctx.http, 'employee');
    const segment = (await t.admin.post('/api/segments', { name: 'High', rule: { tag: tags.intentHigh.id } })).body;
    const contact = (await t.admin.post('/api/contacts', { externalId: 'c1', name: '客户1', ownerId: e1.id, tags: [tags.intentHigh.id],
      timezone: zoneWithOpenWindow() })).body; // in a zone where the all-day window (00:00-23:59) is open for hours yet (test/support/clock.ts)
    const material = (await t.admin.post('/api/materials', coupon({ tagIds: [tags.productB.id] }))).body;

    const unknown = await journeyPicking(t, randomUUID(), segment.id, 'Unknown');
    expect(unknown.status).toBe(422);
    expect(unknown.body.details).toEqual([expect.objectContaining({ path: 'definition.steps[0].content.materials[0].materialId' })]);
    const created = await journeyPicking(t, material.id, segment.id);
    expect(created.status).toBe(201);
    expect(created.body.definition.steps[0].content.materials).toEqual([
      { materialId: material.id, title: material.title, url: material.url, tagIds: [tags.productB.id] }]);
    const sop = created.body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    await enrollEntrants(ctx.stack.db, sop.id, new Date());
    await materializeDuePage(ctx.stack.db, sop.id, new Date(), 100);
    const [{ id: taskId }] = await ctx.stack.db.query(`SELECT id::text FROM tasks WHERE sop_id = $1`, [sop.id]);
    const path: string = (await e1.client.get(`/api/inbox/tasks/${taskId}`)).body.materials[0].trackedPath;
    expect((await fetch(`${ctx.stack.baseUrl}${path}`, AS_CUSTOMER)).headers.get('location')).toBe('https://shop.example/coupon');
    await fetch(`${ctx.stack.baseUrl}${path}`, AS_CUSTOMER); // the same day again: one more open, one contact
    expect((await t.admin.get(`/api/contacts/${contact.id}`)).body.tags.map((x: { id: string }) => x.id)).toContain(tags.productB.id);

    const detail = (await t.admin.get(`/api/materials/${material.id}`)).body;
    expect(detail.stats).toEqual({ sops: 1, sent: 1, opens: 2, openedContacts: 1 });
    expect(detail.usage).toEqual([
      { sopId: sop.id, sopName: 'Coupon journey', sopStatus: 'active', version: null, stepIndex: 0, stepName: 'Send the coupon', current: true },
      { sopId: sop.id, sopName: 'Coupon journey', sopStatus: 'active', version: 1, stepIndex: 0, stepName: 'Send the coupon', current: true },
    ]);
    expect((await t.admin.get('/api/materials')).body.items[0].stats).toEqual(detail.stats);
    const other = await signupTenant(ctx.http);
    expect((await other.admin.get(`/api/materials/${material.id}`)).status).toBe(404);

    // an edit without republish leaves the running version alone and says the use is out of date
    const edited = await t.admin.put(`/api/materials/${material.id}`, coupon({ url: 'https://shop.example/coupon-v2', tagIds: [tags.productA.id] }));
    expect(edited.status).toBe(200);
    expect(edited.body.republished).toEqual([]);
    expect(edited.body.usage.map((u: { version: number | null; current: boolean }) => [u.version, u.current])).toEqual([[null, false], [1, false]]);
    expect((await t.admin.get(`/api/sops/${sop.id}`)).body.currentVersion).toBe(1);
    // with republish the SOP publishes version 2 carrying the new content; version 1 keeps what it sent
    const again = await t.admin.put(`/api/materials/${material.id}?republish=true`, coupon({ url: 'https://shop.example/coupon-v2', tagIds: [tags.productA.id] }));
    expect(again.body.republished).toEqual([{ sopId: sop.id, sopName: 'Coupon journey', version: 2 }]);
    expect(again.body.notRepublished).toEqual([]);
    expect((await t.admin.get(`/api/sops/${sop.id}/versions/3000000000`)).status).toBe(400); // past int: a 400, not Postgres's out-of-range 500
    const v2 = (await t.admin.get(`/api/sops/${sop.id}/versions/2`)).body.definition.steps[0].content.materials[0];
    expect(v2).toEqual({ materialId: material.id, title: material.title, url: 'https://shop.example/coupon-v2', tagIds: [tags.productA.id] });
    expect((await t.admin.get(`/api/sops/${sop.id}/versions/1`)).body.definition.steps[0].content.materials[0].url).toBe('https://shop.example/coupon');
    expect((await t.admin.get(`/api/materials/${material.id}`)).body.usage.map((u: { version: number | null; current: boolean }) => [u.version, u.current]))
      .toEqual([[null, true], [2, true], [1, false]]);

    const inUse = await t.admin.delete(`/api/materials/${material.id}`);
    expect(inUse.status).toBe(409);
    expect(inUse.body).toMatchObject({ code: 'MATERIAL_IN_USE', details: [{ path: `sops/${sop.id}`, kind: 'sop', name: sop.name }] });
    expect((await t.admin.post(`/api/sops/${sop.id}/archive`)).status).toBe(200);
    expect((await t.admin.delete(`/api/materials/${material.id}`)).status).toBe(204);
    expect((await t.admin.get(`/api/sops/${sop.id}/versions/2`)).body.definition.steps[0].content.materials[0].title).toBe(material.title);
  });

  it('republishes the SOPs it can and names the one whose own checks now refuse it', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const helper = await addUser(t, ctx.http, 'employee');
    const segment = (await t.admin.post('/api/segments', { name: 'High', rule: { tag: tags.intentHigh.id } })).body;
    const material = (await t.admin.post('/api/materials', coupon())).body;
    const fine = (await journeyPicking(t, material.id, segment.id, 'A fine one')).body;
    const byHelper = await journeyPicking(t, material.id, segment.id, 'B by a person');
    const broken = (await t.admin.patch(`/api/sops/${byHelper.body.id}`, { definition: { ...byHelper.body.definition,
      steps: byHelper.body.definition.steps.map((s: object) => ({ ...s, executor: { rule: 'user', userId: helper.id } })) } })).body;
    for (const s of [fine, broken]) expect((await t.admin.post(`/api/sops/${s.id}/activate`)).status).toBe(200);
    expect((await t.admin.patch(`/api/users/${helper.id}`, { disabled: true })).status).toBe(200); // B's executor leaves

    const res = await t.admin.put(`/api/materials/${material.id}?republish=true`, coupon({ url: 'https://shop.example/coupon-3' }));
    expect(res.status).toBe(200);
    expect(res.body.url).toBe('https://shop.example/coupon-3');
    expect(res.body.republished).toEqual([{ sopId: fine.id, sopName: 'A fine one', version: 2 }]);
    expect(res.body.notRepublished).toEqual([{ sopId: broken.id, sopName: 'B by a person', code: 'SOP_INVALID', message: expect.stringContaining('executor.userId') }]);
    expect((await t.admin.get(`/api/sops/${broken.id}`)).body.currentVersion).toBe(1);
  });

  it("shows a running journey's contacts per step: waiting, tasks made and done, exited by reason", async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const e1 = await addUser(t, ctx.http, 'employee');
    const segment = (await t.admin.post('/api/segments', { name: 'High', rule: { tag: tags.intentHigh.id } })).body;
    for (const n of [1, 2, 3]) {
      await t.admin.post('/api/contacts', { externalId: `p${n}`, name: `客户${n}`, ownerId: e1.id, tags: [tags.intentHigh.id],
        timezone: zoneWithOpenWindow() }); // in a zone where the all-day window (00:00-23:59) is open for hours yet (test/support/clock.ts)
    }
    const material = (await t.admin.post('/api/materials', coupon())).body;
    const sop = (await journeyPicking(t, material.id, segment.id)).body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    await enrollEntrants(ctx.stack.db, sop.id, new Date());
    await materializeDuePage(ctx.stack.db, sop.id, new Date(), 100);
    const taskIds: string[] = (await ctx.stack.db.query(`SELECT t.id::text FROM tasks t WHERE t.sop_id = $1 ORDER BY t.id`, [sop.id])).map((r: { id: string }) => r.id);
    expect(taskIds).toHaveLength(3);
    expect((await e1.client.post(`/api/inbox/tasks/${taskIds[0]}/complete`, { outcome: 'sent' })).status).toBe(200);
    expect((await e1.client.post(`/api/inbox/tasks/${taskIds[1]}/complete`, { outcome: 'replied' })).status).toBe(200);
    await applyExits(ctx.stack.db, sop.id);

    const res = await t.admin.get(`/api/sops/${sop.id}/progress`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ kind: 'journey', status: 'active', currentVersion: 1, enrollments: { active: 2, completed: 0, exited: 1 } });
    expect(res.body.steps).toEqual([
      { index: 0, name: 'Send the coupon', entered: 3, waiting: 0, tasksCreated: 3, tasks: { pending: 1, done: 2, skipped: 0, expired: 0, cancelled: 0, held: 0 }, exited: [] },
      { index: 1, name: 'Follow up', entered: 2, waiting: 2, tasksCreated: 0, tasks: { pending: 0, done: 0, skipped: 0, expired: 0, cancelled: 0, held: 0 },
        exited: [{ reason: 'replied', contacts: 1 }] },
    ]);
    const employee = await addUser(t, ctx.http, 'employee');
    expect((await employee.client.get(`/api/sops/${sop.id}/progress`)).status).toBe(403);
    const other = await signupTenant(ctx.http);
    expect((await other.admin.get(`/api/sops/${sop.id}/progress`)).body.code).toBe('SOP_NOT_FOUND');
  });
});
