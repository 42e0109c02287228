import { enrollEntrants, materializeDuePage } from '@sop/engine';
import { zoneWithOpenWindow } from '../support/clock';
import { createTagSystem } from '../support/fixtures';
import { addUser, AS_CUSTOMER, signupTenant } from '../support/http';
import { useStack } from '../support/stack';

const KEY = (c: string) => c.repeat(40);

/** Issue 15: what counts as a customer's open, and link keys that outlive a JWT_SECRET rotation. */
describe('tracked links', () => {
  const ctx = useStack({ env: { LINK_SIGNING_KEYS: `k2:${KEY('b')},k1:${KEY('a')}` } });
  // a later deployment: JWT_SECRET rotated (each stack makes its own), a new link key in front, k2 kept to verify
  const rotated = useStack({ env: { LINK_SIGNING_KEYS: `k3:${KEY('c')},k2:${KEY('b')}` } });

  async function taskWithLink() {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const e1 = await addUser(t, ctx.http, 'employee');
    const segment = (await t.admin.post('/api/segments', { name: 'High', rule: { tag: tags.intentHigh.id } })).body;
    const contact = (await t.admin.post('/api/contacts', { externalId: 'c1', name: '客户1', ownerId: e1.id, tags: [tags.intentHigh.id],
      timezone: zoneWithOpenWindow() })).body; // in a zone where the all-day window (00:00-23:59) is open for hours yet (test/support/clock.ts)
    const sop = (await t.admin.post('/api/sops', { name: 'Coupon', definition: {
      kind: 'journey', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
      steps: [{ name: 'Send', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat',
        content: { template: '送您一张券', materials: [{ title: 'Coupon', url: 'https://shop.example/coupon', tagIds: [tags.productB.id] }] },
        executor: { rule: 'contactOwner' } }],
      policies: { businessDaysOnly: false },
    } })).body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    await enrollEntrants(ctx.stack.db, sop.id, new Date());
    await materializeDuePage(ctx.stack.db, sop.id, new Date(), 100);
    const [{ id }] = await ctx.stack.db.query(`SELECT id::text FROM tasks WHERE sop_id = $1 AND contact_id = $2`, [sop.id, contact.id]);
    const path: string = (await e1.client.get(`/api/inbox/tasks/${id}`)).body.materials[0].trackedPath;
    const opens = async () => (await ctx.stack.db.query(`SELECT count(*)::int AS n FROM responses WHERE task_id = $1 AND kind = 'opened'`, [id]))[0].n;
    return { id, path, e1, opens };
  }

  it('does not count HEAD requests or link-preview and scanner user agents, and counts a phone', async () => {
    const { path, opens } = await taskWithLink();
    expect(path).toMatch(/^\/r\/\d+-0-k2\.[A-Za-z0-9_-]{22}$/);
    const head = await fetch(`${ctx.stack.baseUrl}${path}`, { ...AS_CUSTOMER, method: 'HEAD' });
    expect(head.status).toBe(302);
    for (const ua of ['WhatsApp/2.23.20.0', 'facebookexternalhit/1.1', 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
      'TelegramBot (like TwitterBot)', 'Mimecast', 'Barracuda Sentinel (EE)', 'python-requests/2.31']) {
      const res = await fetch(`${ctx.stack.baseUrl}${path}`, { redirect: 'manual', headers: { 'user-agent': ua } });
      expect(res.status).toBe(302);
    }
    expect(await opens()).toBe(0);
    expect((await fetch(`${ctx.stack.baseUrl}${path}`, AS_CUSTOMER)).status).toBe(302);
    expect(await opens()).toBe(1);
  });

  it('does not count opens within 30 seconds of the executor copying the link', async () => {
    const { id, path, e1, opens } = await taskWithLink();
    expect((await e1.client.post(`/api/inbox/tasks/${id}/materials/0/copied`)).status).toBe(204);
    expect((await e1.client.post(`/api/inbox/tasks/${id}/materials/5/copied`)).status).toBe(404);
    expect((await fetch(`${ctx.stack.baseUrl}${path}`, AS_CUSTOMER)).status).toBe(302); // the chat app's preview of the paste
    expect(await opens()).toBe(0);
    await ctx.stack.db.query(`UPDATE link_copies SET copied_at = now() - interval '31 seconds' WHERE task_id = $1`, [id]);
    expect((await fetch(`${ctx.stack.baseUrl}${path}`, AS_CUSTOMER)).status).toBe(302);
    expect(await opens()).toBe(1);
  });

  it('keeps links working across a JWT_SECRET rotation and a new link key; refuses an unknown key id', async () => {
    const { path } = await taskWithLink();
    const later = await fetch(`${rotated.stack.baseUrl}${path}`, AS_CUSTOMER);
    expect(later.status).toBe(302);
    expect(later.headers.get('location')).toBe('https://shop.example/coupon');
    expect((await fetch(`${rotated.stack.baseUrl}${path.replace('-k2.', '-k1.')}`, AS_CUSTOMER)).status).toBe(404);
    expect((await fetch(`${rotated.stack.baseUrl}${path.replace('-k2.', '-k9.')}`, AS_CUSTOMER)).status).toBe(404);
  });

  it('refuses material URLs with user:pass@, and plain http unless an admin allows it', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const segment = (await t.admin.post('/api/segments', { name: 'High', rule: { tag: tags.intentHigh.id } })).body;
    const sop = (url: string) => t.admin.post('/api/sops', { name: `Material ${url}`, definition: {
      kind: 'journey', audience: { segmentId: segment.id },
      steps: [{ name: 'Send', offsetDays: 0, window: { start: '09:00', end: '18:00' }, channel: 'wecom_chat',
        content: { template: 'hi', materials: [{ title: 'Coupon', url }] }, executor: { rule: 'contactOwner' } }],
    } });
    for (const url of ['https://user:pass@shop.example/coupon', 'https://user@shop.example/coupon', 'http://shop.example/coupon']) {
      const res = await sop(url);
      expect(res.status).toBe(422);
      expect(res.body.details).toEqual([expect.objectContaining({ path: expect.stringMatching(/steps\[0\]\.content\.materials\[0\]\.url$/) })]);
    }
    expect((await sop('https://shop.example/coupon')).status).toBe(201);
    expect((await t.admin.get('/api/settings/materials')).body).toEqual({ allowHttp: false });
    expect((await t.admin.put('/api/settings/materials', { allowHttp: true })).body).toEqual({ allowHttp: true });
    expect((await sop('http://shop.example/coupon')).status).toBe(201);
    expect((await sop('http://user:pass@shop.example/x')).status).toBe(422);
    const ops = await addUser(t, ctx.http, 'ops');
    expect((await ops.client.put('/api/settings/materials', { allowHttp: false })).status).toBe(403);
  });
});
