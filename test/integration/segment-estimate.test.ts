import { signupTenant, type TenantFixture } from '../support/http';
import { type Stack, useStack } from '../support/stack';

/**
 * Issue 14: a preview answers quickly whatever the organization's size. An exact count that would take longer
 * than SEGMENT_EXACT_COUNT_MS (or is planned above SEGMENT_EXACT_COUNT_COST) gives way to an estimate from a
 * sample of the contacts, labelled as such and with its margin; small organizations keep exact counts.
 */

/** Contacts g = 1..n with order_count g % 10 (so `orderCount >= 7` holds for 3 in 10) and a 350-character note. */
async function contactsOf(stack: Stack, t: TenantFixture, n: number): Promise<string> {
  const { tenantId } = (await t.admin.get('/api/auth/me')).body;
  await stack.db.query(
    `INSERT INTO contacts (tenant_id, external_id, name, order_count, attributes)
     SELECT $1, 'c' || g, 'Contact ' || g, g % 10, jsonb_build_object('note', repeat('needle ', 50)) FROM generate_series(1, $2::int) g`,
    [tenantId, n],
  );
  await stack.db.query('ANALYZE contacts');
  return tenantId;
}

/**
 * `orderCount >= 7`, made slow on purpose: every row first runs two text searches that fail (strpos over the whole
 * lower-cased note, about 6 µs each), so its exact count over 60,000 contacts takes far longer than a 10 ms budget.
 */
const slowRule = {
  any: [
    ...Array.from({ length: 2 }, (_, i) => ({ attribute: { key: 'note', op: 'contains', value: `needle ${i} absent` } })),
    { metric: { name: 'orderCount', op: 'gte', value: 7 } },
  ],
};

const truth = async (stack: Stack, tenantId: string) =>
  (await stack.db.query(`SELECT count(*)::int AS n FROM contacts WHERE tenant_id = $1 AND order_count >= 7`, [tenantId]))[0].n;

describe('a preview whose exact count is over its budget', () => {
  const ctx = useStack({ env: { SEGMENT_EXACT_COUNT_MS: '10', SEGMENT_SAMPLE_ROWS: '30000', SEGMENT_COST_BUDGET: '1e12' } });

  it('answers an estimate from a sample, labelled, with a margin that holds the true count, and members it found', async () => {
    const t = await signupTenant(ctx.http);
    const tenantId = await contactsOf(ctx.stack, t, 60_000);
    const res = await t.admin.post('/api/segments/preview', { rule: slowRule });
    expect(res.status).toBe(200);
    const exact = await truth(ctx.stack, tenantId);
    expect(exact).toBe(18_000);
    expect(res.body).toMatchObject({ estimated: true, margin: expect.any(Number) });
    expect(res.body.margin).toBeGreaterThan(0);
    expect(res.body.margin).toBeLessThan(exact / 2); // a useful estimate, not a shrug
    expect(Math.abs(res.body.count - exact)).toBeLessThanOrEqual(res.body.margin);
    // the members shown are members, of this organization
    expect(res.body.sample.length).toBe(20);
    const ids = res.body.sample.map((m: { id: string }) => m.id);
    const [{ n }] = await ctx.stack.db.query(
      `SELECT count(*)::int AS n FROM contacts WHERE tenant_id = $1 AND order_count >= 7 AND id = ANY($2::uuid[])`, [tenantId, ids],
    );
    expect(n).toBe(20);
    // the same rule again: the same sample, so the same answer (a count that does not jump while one edits)
    expect((await t.admin.post('/api/segments/preview', { rule: slowRule })).body).toMatchObject({ count: res.body.count, margin: res.body.margin });
  });

  it('counts a small organization exactly, even over the budget: its few contacts in the sample would say little', async () => {
    const t = await signupTenant(ctx.http);
    const tenantId = await contactsOf(ctx.stack, t, 400);
    const res = await t.admin.post('/api/segments/preview', { rule: slowRule });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ count: 120, estimated: false, margin: 0 });
    expect(await truth(ctx.stack, tenantId)).toBe(120);
    // exact: the first members by id
    const first = await ctx.stack.db.query(`SELECT id FROM contacts WHERE tenant_id = $1 AND order_count >= 7 ORDER BY id LIMIT 20`, [tenantId]);
    expect(res.body.sample.map((m: { id: string }) => m.id)).toEqual(first.map((r: { id: string }) => r.id));
  });
});

describe('a preview whose exact count is within its budget', () => {
  // a budget no count here can miss, even on a loaded machine (a 60,000-row scan past 100 ms turns into an estimate)
  const ctx = useStack({ env: { SEGMENT_EXACT_COUNT_MS: '4000' } });

  it('stays exact for a large organization, with the first members by id', async () => {
    const t = await signupTenant(ctx.http);
    const tenantId = await contactsOf(ctx.stack, t, 60_000);
    const res = await t.admin.post('/api/segments/preview', { rule: { metric: { name: 'orderCount', op: 'gte', value: 7 } } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ count: 18_000, estimated: false, margin: 0 });
    const first = await ctx.stack.db.query(`SELECT id FROM contacts WHERE tenant_id = $1 AND order_count >= 7 ORDER BY id LIMIT 20`, [tenantId]);
    expect(res.body.sample.map((m: { id: string }) => m.id)).toEqual(first.map((r: { id: string }) => r.id));
    const none = await t.admin.post('/api/segments/preview', { rule: { metric: { name: 'orderCount', op: 'gte', value: 10 } } });
    expect(none.body).toEqual({ count: 0, estimated: false, margin: 0, sample: [] });
  });
});
