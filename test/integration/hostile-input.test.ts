import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { signupTenant, type TenantFixture } from '../support/http';
import { useStack } from '../support/stack';

/** Issue 15: bad input answers 400/422 naming the field, never 500. */
describe('hostile input (no 500 from bad input)', () => {
  const ctx = useStack();
  let t: TenantFixture;
  beforeAll(async () => {
    t = await signupTenant(ctx.http, 'Hostile');
  });

  const nested = (levels: number, leaf: string, open: string, close: string) => open.repeat(levels) + leaf + close.repeat(levels);

  describe.each([
    ['a NUL character', 'a\u0000b'],
    ['a lone high surrogate', 'a\ud800b'],
    ['a lone low surrogate', '\udc00'],
  ])('%s in a JSON text field', (_, bad) => {
    it.each([
      ['POST', '/api/tag-groups', 'name', () => ({ name: bad })],
      ['POST', '/api/teams', 'name', () => ({ name: bad })],
      ['POST', '/api/contacts', 'name', () => ({ externalId: 'x1', name: bad })],
      ['POST', '/api/contacts', 'externalId', () => ({ externalId: bad })],
      ['POST', '/api/contacts', 'attributes.region', () => ({ externalId: 'x2', attributes: { region: bad } })],
      ['POST', '/api/contacts', 'attributes.list[1]', () => ({ externalId: 'x3', attributes: { list: ['ok', bad] } })],
      ['POST', '/api/segments', 'name', () => ({ name: bad, rule: { all: [] } })],
      ['POST', `/api/inbox/tasks/${randomUUID()}/skip`, 'reason', () => ({ reason: bad })],
      ['POST', '/api/handovers', 'reason', () => ({ fromUserId: randomUUID(), toUserId: randomUUID(), reason: bad })],
      ['PUT', '/api/calendar/days/2030-10-08', 'name', () => ({ working: false, name: bad })],
    ])('%s %s answers 400 naming %s', async (method, path, field, body) => {
      const res = await t.admin.request(method, path, body());
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.details).toEqual([expect.objectContaining({ path: field })]);
    });

    it('in a key of the body, and in a query string', async () => {
      const key = await t.admin.post('/api/contacts', { externalId: 'k1', attributes: { [`k${bad}`]: 1 } });
      expect(key.status).toBe(400);
      expect(key.body.details[0].path).toBe(`attributes.k${bad}`);
      if (bad.includes('\u0000')) {
        const query = await t.admin.get(`/api/contacts?q=${encodeURIComponent(bad)}`);
        expect(query.status).toBe(400);
        expect(query.body.details).toEqual([expect.objectContaining({ path: 'q' })]);
      } else {
        // a URL cannot carry a lone surrogate; its UTF-8-like bytes decode to U+FFFD, which is fine text
        expect((await t.admin.get('/api/contacts?q=%ED%A0%80')).status).toBe(200);
      }
    });
  });

  it('refuses deep nesting before anything walks the body (segment rule, contact attributes, SOP definition)', async () => {
    const raw = (method: string, path: string, text: string) => t.admin.request(method, path, text, { 'content-type': 'application/json' });
    const rule = await raw('POST', '/api/segments/preview', `{"rule":${nested(5000, `{"tag":"${randomUUID()}"}`, '{"not":', '}')}}`);
    const attributes = await raw('POST', '/api/contacts', `{"externalId":"deep","attributes":{"a":${nested(100_000, '1', '[', ']')}}}`);
    const sop = await raw('POST', '/api/sops', `{"name":"deep","definition":${nested(50_000, '1', '{"a":', '}')}}`);
    for (const res of [rule, attributes, sop]) {
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('deeper than 64 levels') });
    }
    // a rule of 9 levels is well within the body's limit and still answered by the rule's own check
    const nine = await t.admin.post('/api/segments/preview', { rule: JSON.parse(nested(8, `{"tag":"${randomUUID()}"}`, '{"not":', '}')) });
    expect(nine.status).toBe(400);
    expect(nine.body.message).toContain('nesting deeper than 8 levels');
  });

  it('refuses the reserved keys constructor, __proto__ and prototype, on contact create and update', async () => {
    const create = await t.admin.post('/api/contacts', { externalId: 'proto-1', attributes: { constructor: 'x' } });
    expect(create.status).toBe(400);
    expect(create.body.details).toEqual([expect.objectContaining({ path: 'attributes.constructor' })]);
    const ok = await t.admin.post('/api/contacts', { externalId: 'proto-2', attributes: { region: 'Shanghai' } });
    expect(ok.status).toBe(201);
    const update = await t.admin.patch(`/api/contacts/${ok.body.id}`, { attributes: { constructor: { prototype: 1 } } });
    expect(update.status).toBe(400);
    const proto = await t.admin.request('PATCH', `/api/contacts/${ok.body.id}`, '{"attributes":{"__proto__":{"x":1}}}');
    expect(proto.status).toBe(400);
    expect(proto.body.details).toEqual([expect.objectContaining({ path: 'attributes.__proto__' })]);
  });

  it('answers 400 for a contact update with a malformed id, extreme numbers or dates out of range (found by the fuzz pass)', async () => {
    const ok = await t.admin.post('/api/contacts', { externalId: 'extreme-1' });
    expect(ok.status).toBe(201);
    const hostile = { orderCount: 1e308, totalSpend: -5e-324, lastOrderAt: '0410-01-15T19:23:07+20:54', '\ud83d\ude00': 1 };
    const malformedId = await t.admin.request('PATCH', '/api/contacts/%C2%97%F3%8B%82%83', hostile);
    expect(malformedId.status).toBe(400);
    for (const [field, value] of [
      ['lastOrderAt', '0410-01-15T19:23:07+20:54'], ['lastOrderAt', '275760-09-13T00:00:00Z'], ['lastContactedAt', '-000001-01-01T00:00:00Z'],
      ['orderCount', 1e308], ['totalSpend', -5e-324], ['spend30d', 1e308],
    ] as const) {
      const res = await t.admin.patch(`/api/contacts/${ok.body.id}`, { [field]: value });
      expect({ field, status: res.status }).toEqual({ field, status: 400 });
      expect(new Set(res.body.details.map((d: { path: string }) => d.path))).toEqual(new Set([field]));
    }
    expect((await t.admin.get(`/api/contacts/${ok.body.id}`)).body).toMatchObject({ orderCount: 0, lastOrderAt: null });
  });

  it('answers 400 for a members cursor that is not a cursor', async () => {
    const seg = await t.admin.post('/api/segments', { name: 'silent', rule: { daysSince: { field: 'lastContacted', op: 'gte', days: 14 } } });
    expect(seg.status).toBe(201);
    for (const cursor of ['nonsense', "'; drop table contacts; --", '1']) {
      const res = await t.admin.get(`/api/segments/${seg.body.id}/members?cursor=${encodeURIComponent(cursor)}`);
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual([expect.objectContaining({ path: 'cursor' })]);
    }
  });

  it('answers 400 for a round trip whose id is null', async () => {
    const res = await t.admin.post('/api/round-trips', { id: null });
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([expect.objectContaining({ path: 'id' })]);
  });

  it('answers 400 MALFORMED_BODY for a body that says gzip and is not, and reads a real gzip body', async () => {
    const bad = await t.admin.request('POST', '/api/tag-groups', 'not gzip at all', { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('MALFORMED_BODY');
    const good = await t.admin.request('POST', '/api/tag-groups', gzipSync(JSON.stringify({ name: 'Zipped' })), {
      'content-type': 'application/json', 'content-encoding': 'gzip',
    });
    expect(good.status).toBe(201);
  });

  it('keeps client-chosen ids per tenant: another tenant\'s round trip, import, handover or leave id is free, and says nothing', async () => {
    const a = await signupTenant(ctx.http, 'Ids A');
    const b = await signupTenant(ctx.http, 'Ids B');
    const people = async (t: TenantFixture) => Promise.all([1, 2].map(async (n) =>
      (await t.admin.post('/api/users', { email: `e${n}-${randomUUID()}@test.example`, name: `E${n}`, role: 'employee', password: `pw-${randomUUID()}` })).body.id as string));
    const [a1, a2] = await people(a);
    const [b1, b2] = await people(b);
    const id = randomUUID();
    const csv = (t: TenantFixture) => t.admin.request('POST', `/api/imports/contacts?id=${id}`, 'external_id\nx1\n', { 'content-type': 'text/csv' });
    const leave = (t: TenantFixture, user: string, to: string) => t.admin.post(`/api/users/${user}/leaves`, {
      id, startsAt: '2031-01-01T00:00:00+08:00', endsAt: '2031-01-08T00:00:00+08:00', policy: 'reassign', toUserId: to });
    const leaveId = randomUUID();
    const handover = (t: TenantFixture, from: string, to: string) => t.admin.post('/api/handovers', { id: leaveId, fromUserId: from, toUserId: to });
    for (const [first, second] of [
      [() => a.admin.post('/api/round-trips', { id }), () => b.admin.post('/api/round-trips', { id })],
      [() => csv(a), () => csv(b)],
      [() => leave(a, a1, a2), () => leave(b, b1, b2)],
      [() => handover(a, a1, a2), () => handover(b, b1, b2)],
    ]) {
      const mine = await first();
      expect(mine.status).toBe(201);
      const theirs = await second();
      expect(theirs.status).toBe(201); // not 409: B cannot learn that A used the id
      expect(theirs.body.id).toBe(mine.body.id);
    }
    expect((await a.admin.get(`/api/imports/${id}`)).body.importedRows).toBe(1);
    expect((await b.admin.get(`/api/handovers/${leaveId}`)).body.fromUserId).toBe(b1);
  });
});
