import { dataSourceOptions } from '@sop/db';
import { applyExits, changeTags, enrollEntrants, materializeDuePage, recordContactActivity } from '@sop/engine';
import { DataSource } from 'typeorm';
import { addUser, type Http, signupTenant } from '../support/http';
import { zoneWithOpenWindow } from '../support/clock';
import { explained, nodes, pairsRejected, rowsRead, type ExplainedPlan, type PlanNode } from '../support/plans';
import { privateStack } from '../support/private-database';
import type { Stack } from '../support/stack';

/**
 * The exit pass under a stream of responses (issue 14, the loop at 50 responses a second): a journey of 3,000
 * contacts just entered, half of them replied or left the segment, then the pass, read from the plans Postgres ran
 * (auto_explain, the trigger's statements included).
 *
 * Its plan must not depend on what the statistics say, so the pass runs with the statistics in each state a real
 * database (or a full test run, whose suites share one) can leave them in: never analyzed, analyzed while the tables
 * were empty, analyzed while they were full of another tenant's rows, analyzed after the journey entered but before
 * the responses. The journey's own rows are never known to them. A database of this file's own (created on the test
 * server, autovacuum off for the tables the pass reads) keeps the states as set, and keeps this file's statistics
 * games away from every other suite's plans.
 */
describe('SOP exit plans whatever the statistics say (real Postgres)', () => {
  const ctx = {} as { stack: Stack; http: Http; wide: DataSource; close: () => Promise<void> };
  const TABLES = ['contacts', 'segment_memberships', 'enrollments', 'tasks', 'sop_exit_checks', 'domain_events', 'tag_events'];

  beforeAll(async () => {
    const own = await privateStack('sop_exits_plan');
    Object.assign(ctx, { stack: own.stack, http: own.http, close: own.close });
    ctx.wide = await new DataSource(dataSourceOptions(own.url, { extra: { max: 8 } })).initialize();
    for (const table of TABLES) await ctx.wide.query(`ALTER TABLE ${table} SET (autovacuum_enabled = off)`);
  }, 120_000);
  afterAll(async () => {
    await ctx.wide?.destroy();
    await ctx.close?.();
  });

  const CONTACTS = 3000;
  /** Another tenant's journey, larger than any limit below: a plan that scans a table instead of probing it fails. */
  const OTHERS = 20_000;

  const analyze = () => ctx.wide.query(`ANALYZE ${TABLES.join(', ')}`);
  /** As if never analyzed: no column statistics, sizes unknown (`reltuples` -1), for the tables and their indexes. */
  async function forget() {
    for (const table of TABLES) {
      await ctx.wide.query(`DELETE FROM pg_statistic WHERE starelid = $1::regclass`, [table]);
      await ctx.wide.query(`UPDATE pg_class SET reltuples = -1, relpages = 0, relallvisible = 0
        WHERE oid = $1::regclass OR oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = $1::regclass)`, [table]);
    }
  }

  /** The loop bench's nurture journey (exit on reply or on leaving the segment). */
  async function nurture(label: string) {
    const t = await signupTenant(ctx.http, label);
    const owner = await addUser(t, ctx.http, 'employee');
    const group = (await t.admin.post('/api/tag-groups', { name: 'Intent', exclusive: true })).body;
    const high = (await t.admin.post('/api/tags', { groupId: group.id, name: 'High', kind: 'behaviour' })).body;
    const segment = (await t.admin.post('/api/segments', { name: 'Nurture',
      rule: { all: [{ attribute: { key: 'city', op: 'exists' } }, { not: { tag: high.id } }] } })).body;
    const step = (name: string, offsetDays: number) => ({ name, offsetDays, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat',
      content: { template: name }, executor: { rule: 'contactOwner' } });
    const sop = (await t.admin.post('/api/sops', { name: 'Nurture', definition: {
      kind: 'journey', timezone: 'Asia/Shanghai', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
      steps: [step('Coupon', 0), step('Check in', 7)], policies: { businessDaysOnly: false, exitOn: [{ on: 'leftSegment' }, { on: 'replied' }] },
    } })).body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    const [{ tenant_id: tenantId }] = await ctx.wide.query(`SELECT tenant_id FROM sops WHERE id = $1`, [sop.id]);
    return { t, owner, tenantId: tenantId as string, segmentId: segment.id as string, sopId: sop.id as string, highTag: high.id as string };
  }

  /** `n` contacts in the journey's segment, entered and given their first task. */
  async function enter(j: Awaited<ReturnType<typeof nurture>>, n: number): Promise<string[]> {
    const contacts: { id: string }[] = await ctx.wide.query(
      `WITH c AS (
         INSERT INTO contacts (tenant_id, external_id, name, owner_id, attributes, timezone)
         SELECT $4, $5 || g, '客户 ' || g, $2, '{"city": "上海"}', $6 FROM generate_series(1, $3::int) g RETURNING id, tenant_id)
       INSERT INTO segment_memberships (tenant_id, segment_id, contact_id, entered_at) SELECT tenant_id, $1, id, now() - interval '1 hour' FROM c
       RETURNING contact_id AS id`,
      // where the all-day window is hours from closing: in its last minute the first tasks would be due tomorrow
      [j.segmentId, j.owner.id, n, j.tenantId, `${j.sopId.slice(0, 8)}-`, zoneWithOpenWindow()]);
    expect(await enrollEntrants(ctx.wide, j.sopId, new Date())).toBe(n);
    expect((await materializeDuePage(ctx.wide, j.sopId, new Date(), n)).tasks).toBe(n);
    return contacts.map((c) => c.id);
  }

  /**
   * Another tenant's large journey, all of it analyzed: the statistics then know its SOP, segment and contacts and
   * none of ours (an id they do not know looks like a row or two), and every table holds far more than the pass may
   * read. Some of its enrollments exited, some checks are queued for it, its contacts have tag history.
   */
  async function othersAnalyzed() {
    const o = await nurture('Others');
    const ids = await enter(o, OTHERS);
    // Most of its enrollments closed: the statistics think active enrollments rare, so every partial index on the
    // status looks tiny to them, while ours are all active.
    const closed = ids.slice(0, OTHERS * 0.9);
    await ctx.wide.query(`UPDATE enrollments SET status = 'exited', closed_at = now(), close_reason = 'replied', next_due_at = NULL
      WHERE sop_id = $1 AND contact_id = ANY($2::uuid[])`, [o.sopId, closed]);
    await ctx.wide.query(`UPDATE tasks SET status = 'cancelled', cancel_reason = 'replied', finished_at = now()
      WHERE sop_id = $1 AND contact_id = ANY($2::uuid[])`, [o.sopId, closed]);
    await ctx.wide.query(`INSERT INTO sop_exit_checks (tenant_id, sop_id, contact_id) SELECT $1, $2, unnest($3::uuid[])`,
      [o.tenantId, o.sopId, ids.slice(OTHERS * 0.9)]);
    await ctx.wide.query(`INSERT INTO tag_events (tenant_id, contact_id, tag_id, action, actor_type, at)
      SELECT $1, unnest($2::uuid[]), $3, 'added', 'system', now() - interval '1 minute'`, [o.tenantId, ids, o.highTag]);
    await ctx.wide.query(`UPDATE contacts SET last_responded_at = now() - interval '1 minute' WHERE id = ANY($1::uuid[])`, [ids.slice(0, OTHERS / 4)]);
    await analyze();
  }

  const states: { name: string; before?: () => Promise<void>; afterEntry?: () => Promise<void>; beforePass?: () => Promise<void> }[] = [
    {
      name: 'analyzed while the tables were empty (this database is fresh), then filled',
      before: async () => {
        const [{ n }] = await ctx.wide.query(`SELECT count(*)::int AS n FROM enrollments`);
        expect(n).toBe(0);
        await analyze();
      },
    },
    { name: 'never analyzed', beforePass: forget },
    { name: 'analyzed while full of another tenant\'s rows', before: othersAnalyzed },
    { name: 'analyzed after the journey entered, before the responses', afterEntry: analyze },
  ];

  /**
   * The pass's statements among those collected (the trigger's statements are collected too): the evaluation, then
   * whatever closes the exits, as one plan (a node over them) so that rows read add up.
   */
  const passPlan = (plans: ExplainedPlan[]): { plan: PlanNode; triggerMs: number } => {
    const evaluation = plans.filter((p) => p.query.includes('DELETE FROM sop_exit_checks'));
    expect(evaluation).toHaveLength(1);
    // Separate statements that close the exits, if the pass has them (the nested trigger statements update neither table).
    const closing = plans.filter((p) => !p.query.includes('DELETE FROM sop_exit_checks') && /UPDATE (enrollments|tasks)/.test(p.query));
    const top = [...evaluation, ...closing];
    return {
      plan: { 'Node Type': 'Pass', 'Actual Rows': 0, 'Actual Loops': 1, 'Shared Hit Blocks': 0, 'Shared Read Blocks': 0, Plans: top.map((p) => p.plan) },
      triggerMs: top.flatMap((p) => p.triggers ?? []).filter((t) => t['Trigger Name'].startsWith('tasks_rollup')).reduce((sum, t) => sum + t.Time, 0),
    };
  };
  /** A figure of the plan at most `limit`; a failure names the figure and the plan's heaviest nodes. */
  const within = (figure: string, value: number, limit: number, what: string) =>
    expect({ [figure]: value <= limit ? 'within' : { value, limit, heaviest: what } }).toEqual({ [figure]: 'within' });
  /** The nodes that read the most rows, to say in a failure what the plan did. */
  const heaviest = (plan: PlanNode) => nodes(plan).map((n) => ({
    node: `${n['Node Type']} ${n['Relation Name'] ?? ''} ${n['Index Name'] ?? ''}`.trim(), rows: n['Actual Rows'], loops: n['Actual Loops'],
    removed: (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Join Filter'] ?? 0),
  })).sort((a, b) => (b.rows + b.removed) * b.loops - (a.rows + a.removed) * a.loops).slice(0, 6);

  it.each(states)('closes 1,500 of 3,000 fresh enrollments with a few index probes per candidate, rollups exact: statistics $name',
    async (state) => {
      await state.before?.();
      const j = await nurture('Nurture');
      const contacts = await enter(j, CONTACTS);
      await state.afterEntry?.();
      const repliers = contacts.slice(0, CONTACTS / 4);
      const openers = contacts.slice(CONTACTS / 4, CONTACTS / 2);
      // One response a transaction, as the events API and the tracked links write them, 8 at a time: replies, and
      // coupon opens that tag the contact high-intent, which takes it out of the segment.
      for (let i = 0; i < repliers.length; i += 8) {
        await Promise.all(repliers.slice(i, i + 8).map((id) => ctx.wide.transaction((m) =>
          recordContactActivity(m, j.tenantId, id, { contacted: false, responded: true }))));
      }
      for (let i = 0; i < openers.length; i += 8) {
        await Promise.all(openers.slice(i, i + 8).map((id) => ctx.wide.transaction((m) =>
          changeTags(m, j.tenantId, [id], { add: [j.highTag] }, { type: 'system', id: null }))));
      }
      await state.beforePass?.();

      const x = await explained(ctx.stack.db, { nested: true });
      try {
        expect(await applyExits(x.db, j.sopId)).toBe(CONTACTS / 2);
        const { plan: pass, triggerMs } = passPlan(x.plans);
        console.log(`exit pass, statistics ${state.name}: rollup trigger ${triggerMs.toFixed(1)} ms; heaviest nodes ${JSON.stringify(heaviest(pass).slice(0, 3))}`);
        const what = JSON.stringify(heaviest(pass));
        // No join compares pairs of two sets (before: the queued checks against the journey's enrollments, 4.8 M pairs).
        within('pairs compared and rejected', pairsRejected(pass), 10 * CONTACTS, what);
        // Each candidate's own rows are probed: its enrollments, its open memberships (one or none here), its tasks;
        // never a whole segment, journey or table (the other tenant's 20,000 rows would show).
        for (const table of ['enrollments', 'segment_memberships', 'tasks', 'contacts', 'sop_exit_checks', 'domain_events']) {
          within(`${table} rows read`, rowsRead(pass, table), 5 * CONTACTS, what);
        }
        for (const n of nodes(pass).filter((n) => n['Relation Name'] === 'segment_memberships')) {
          expect(n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0)).toBeLessThanOrEqual(2);
        }
        // No node loops over one set once per row of another.
        for (const node of nodes(pass)) within(`${node['Node Type']} rows over its loops`, node['Actual Rows'] * node['Actual Loops'], 10 * CONTACTS, what);
      } finally {
        await x.release();
      }

      // Exactly once and exact rollups: every exited enrollment's task cancelled, the rollups equal to the tasks.
      const [tasks] = await ctx.wide.query(
        `SELECT count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled, count(*) FILTER (WHERE status = 'pending')::int AS pending
           FROM tasks WHERE sop_id = $1`, [j.sopId]);
      expect(tasks).toEqual({ cancelled: CONTACTS / 2, pending: CONTACTS / 2 });
      const [rollup] = await ctx.wide.query(
        `SELECT sum(cancelled)::int AS cancelled, sum(pending)::int AS pending, sum(created)::int AS created FROM task_rollups_sop_day WHERE sop_id = $1`,
        [j.sopId]);
      expect(rollup).toEqual({ ...tasks, created: CONTACTS });
      const [{ n: left }] = await ctx.wide.query(`SELECT count(*)::int AS n FROM sop_exit_checks WHERE sop_id = $1`, [j.sopId]);
      expect(left).toBe(0);
    }, 300_000);
});
