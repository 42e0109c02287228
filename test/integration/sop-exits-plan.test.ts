import { dataSourceOptions } from '@sop/db';
import { applyExits, changeTags, enrollEntrants, materializeDuePage, recordContactActivity } from '@sop/engine';
import { DataSource } from 'typeorm';
import { addUser, signupTenant } from '../support/http';
import { testEnv } from '../support/env';
import { explained, nodes, pairsRejected, rowsRead, type ExplainedPlan } from '../support/plans';
import { useStack } from '../support/stack';

/**
 * The exit pass under a stream of responses (issue 14, the loop at 50 responses a second): a journey of 3,000
 * contacts just entered (rows the statistics do not know yet), half of them replied or left the segment, then
 * the pass, read from the plans Postgres ran (auto_explain, the trigger's statements included).
 */
describe('SOP exit plans (real Postgres)', () => {
  const ctx = useStack();
  let wide: DataSource;
  beforeAll(async () => {
    wide = await new DataSource(dataSourceOptions(testEnv('DATABASE_URL'), { extra: { max: 8 } })).initialize();
  });
  afterAll(() => wide?.destroy());

  const CONTACTS = 3000;

  /** The loop bench's nurture journey (exit on reply or on leaving the segment), its contacts entered and tasked. */
  async function nurture() {
    // What autovacuum leaves: statistics from before this journey's rows were written.
    await ctx.stack.db.query('ANALYZE contacts, segment_memberships, enrollments, tasks, sop_exit_checks, domain_events');
    const t = await signupTenant(ctx.http);
    const owner = await addUser(t, ctx.http, 'employee');
    const group = (await t.admin.post('/api/tag-groups', { name: 'Intent', exclusive: true })).body;
    const high = (await t.admin.post('/api/tags', { groupId: group.id, name: 'High', kind: 'behaviour' })).body;
    const segment = (await t.admin.post('/api/segments', { name: 'Nurture',
      rule: { all: [{ attribute: { key: 'city', op: 'exists' } }, { not: { tag: high.id } }] } })).body;
    const contacts: { id: string }[] = await ctx.stack.db.query(
      `WITH c AS (
         INSERT INTO contacts (tenant_id, external_id, name, owner_id, attributes)
         SELECT s.tenant_id, 'exit-' || g, '客户 ' || g, $2, '{"city": "上海"}' FROM segments s, generate_series(1, $3::int) g
          WHERE s.id = $1 RETURNING id, tenant_id)
       INSERT INTO segment_memberships (tenant_id, segment_id, contact_id, entered_at) SELECT tenant_id, $1, id, now() - interval '1 hour' FROM c
       RETURNING contact_id AS id`,
      [segment.id, owner.id, CONTACTS]);
    const step = (name: string, offsetDays: number) => ({ name, offsetDays, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat',
      content: { template: name }, executor: { rule: 'contactOwner' } });
    const sop = (await t.admin.post('/api/sops', { name: 'Nurture', definition: {
      kind: 'journey', timezone: 'Asia/Shanghai', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
      steps: [step('Coupon', 0), step('Check in', 7)], policies: { businessDaysOnly: false, exitOn: [{ on: 'leftSegment' }, { on: 'replied' }] },
    } })).body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    expect(await enrollEntrants(wide, sop.id, new Date())).toBe(CONTACTS);
    expect((await materializeDuePage(wide, sop.id, new Date(), CONTACTS)).tasks).toBe(CONTACTS);
    const [{ tenant_id: tenantId }] = await ctx.stack.db.query(`SELECT tenant_id FROM sops WHERE id = $1`, [sop.id]);
    return { t, tenantId: tenantId as string, sopId: sop.id as string, highTag: high.id as string, contacts: contacts.map((c) => c.id) };
  }

  /** The exit statement's plan among those collected (the trigger's statements are collected too). */
  const exitPlan = (plans: ExplainedPlan[]) => {
    const found = plans.filter((p) => p.query.includes('DELETE FROM sop_exit_checks'));
    expect(found).toHaveLength(1);
    return found[0].plan;
  };

  it('closes 1,500 of 3,000 fresh enrollments with a few index probes per candidate, rollups exact', async () => {
    const j = await nurture();
    const repliers = j.contacts.slice(0, CONTACTS / 4);
    const openers = j.contacts.slice(CONTACTS / 4, CONTACTS / 2);
    // One response a transaction, as the events API and the tracked links write them, 8 at a time: replies, and
    // coupon opens that tag the contact high-intent, which takes it out of the segment.
    for (let i = 0; i < repliers.length; i += 8) {
      await Promise.all(repliers.slice(i, i + 8).map((id) => wide.transaction((m) =>
        recordContactActivity(m, j.tenantId, id, { contacted: false, responded: true }))));
    }
    for (let i = 0; i < openers.length; i += 8) {
      await Promise.all(openers.slice(i, i + 8).map((id) => wide.transaction((m) =>
        changeTags(m, j.tenantId, [id], { add: [j.highTag] }, { type: 'system', id: null }))));
    }

    const x = await explained(ctx.stack.db, { nested: true });
    try {
      expect(await applyExits(x.db, j.sopId)).toBe(CONTACTS / 2);
      const pass = exitPlan(x.plans);
      // Before: the queued checks were joined to the journey's 3,000 enrollments by a nested loop that compared 4.8 M
      // pairs, and the segment test read the segment's memberships by segment, 1,312 a candidate, three times over.
      expect(pairsRejected(pass)).toBeLessThan(10 * CONTACTS);
      // The segment test probes each candidate's own open memberships (here one or none), never a whole segment.
      const memberships = nodes(pass).filter((n) => n['Relation Name'] === 'segment_memberships');
      expect(memberships.length).toBeGreaterThan(0);
      for (const n of memberships) expect(n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0)).toBeLessThanOrEqual(2);
      expect(rowsRead(pass, 'enrollments')).toBeLessThan(5 * CONTACTS);
      // No node of the pass loops over one set once per row of another (a few index probes per changed contact).
      for (const node of nodes(pass)) expect(node['Actual Rows'] * node['Actual Loops']).toBeLessThan(10 * CONTACTS);
    } finally {
      await x.release();
    }

    // Exactly once and exact rollups: every exited enrollment's task cancelled, the rollups equal to the tasks.
    const [tasks] = await ctx.stack.db.query(
      `SELECT count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled, count(*) FILTER (WHERE status = 'pending')::int AS pending
         FROM tasks WHERE sop_id = $1`, [j.sopId]);
    expect(tasks).toEqual({ cancelled: CONTACTS / 2, pending: CONTACTS / 2 });
    const [rollup] = await ctx.stack.db.query(
      `SELECT sum(cancelled)::int AS cancelled, sum(pending)::int AS pending, sum(created)::int AS created FROM task_rollups_sop_day WHERE sop_id = $1`,
      [j.sopId]);
    expect(rollup).toEqual({ ...tasks, created: CONTACTS });
    const [{ n: left }] = await ctx.stack.db.query(`SELECT count(*)::int AS n FROM sop_exit_checks WHERE sop_id = $1`, [j.sopId]);
    expect(left).toBe(0);
  }, 300_000);
});
