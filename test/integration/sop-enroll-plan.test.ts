import { dataSourceOptions } from '@sop/db';
import { BULK_ENROLLMENT, enrollEntrants, type Queryable, type Transactional } from '@sop/engine';
import { DataSource } from 'typeorm';
import { addUser, signupTenant } from '../support/http';
import { explained as explainedOn, rowsRead, type ExplainedPlan } from '../support/plans';
import { testEnv } from '../support/env';
import { useStack } from '../support/stack';

/**
 * How the engine's enrollment statement reads the database as the segment grows (issue 14, "Ten times the
 * data"), from the plans Postgres actually ran: the engine's own calls, on a connection where auto_explain
 * reports every statement's plan with its actual rows and buffers (as notices, read here).
 */
describe('SOP enrollment plans (real Postgres)', () => {
  const ctx = useStack();
  let wide: DataSource;
  beforeAll(async () => {
    wide = await new DataSource(dataSourceOptions(testEnv('DATABASE_URL'), { extra: { max: 8 } })).initialize();
  });
  afterAll(() => wide?.destroy());

  const explained = () => explainedOn(ctx.stack.db);
  const enrollmentPlan = (plans: ExplainedPlan[]) => {
    const found = plans.filter((p) => p.query.includes('INSERT INTO enrollments'));
    expect(found).toHaveLength(1);
    return found[0].plan;
  };

  /**
   * A tenant, a segment with `members` contacts written in SQL (as populateSegment writes them), an active journey.
   * The memberships entered an hour ago, or `justNow` (a segment saved a moment before the journey's activation).
   */
  async function journeyOn(members: number, { justNow = false, existing = true, activate = true } = {}) {
    const t = await signupTenant(ctx.http);
    const owner = await addUser(t, ctx.http, 'employee');
    const segment = (await t.admin.post('/api/segments', { name: 'Everyone', rule: { attribute: { key: 'city', op: 'exists' } } })).body;
    await ctx.stack.db.query(
      `WITH c AS (
         INSERT INTO contacts (tenant_id, external_id, name, owner_id, attributes)
         SELECT s.tenant_id, 'plan-' || g, '客户 ' || g, $2, '{"city": "上海"}' FROM segments s, generate_series(1, $3::int) g
          WHERE s.id = $1 RETURNING id, tenant_id)
       INSERT INTO segment_memberships (tenant_id, segment_id, contact_id, entered_at)
       SELECT tenant_id, $1, id, now() - CASE WHEN $4 THEN interval '0' ELSE interval '1 hour' END FROM c`,
      [segment.id, owner.id, members, justNow]);
    const sop = (await t.admin.post('/api/sops', { name: 'Welcome', definition: {
      kind: 'journey', timezone: 'Asia/Shanghai', audience: { segmentId: segment.id }, entry: { includeExistingMembers: existing, reentry: 'never' },
      steps: [{ name: 'Say hello', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat',
        content: { template: 'Hi {{ contact.name }}' }, executor: { rule: 'contactOwner' } }],
      policies: { businessDaysOnly: false },
    } })).body;
    if (activate) expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    return { t, owner, segmentId: segment.id as string, sopId: sop.id as string };
  }

  type Journey = Awaited<ReturnType<typeof journeyOn>>;
  const tenantOf = async (j: Journey): Promise<string> =>
    (await ctx.stack.db.query(`SELECT tenant_id FROM sops WHERE id = $1`, [j.sopId]))[0].tenant_id;

  /** A contact and its open membership of the journey's segment, written on `q` (a test's own transaction), under `id` if given. */
  const addMember = (j: Journey, tenantId: string, name: string, q: { query: Queryable['query'] } = ctx.stack.db, id?: string) => q.query(
    `WITH c AS (INSERT INTO contacts (tenant_id, external_id, name, owner_id) VALUES ($1, $2, $2, $3) RETURNING id)
     INSERT INTO segment_memberships (tenant_id, segment_id, contact_id${id ? ', id' : ''}) ${id ? 'OVERRIDING SYSTEM VALUE' : ''}
     SELECT $1, $4, id${id ? ', $5::bigint' : ''} FROM c RETURNING id`,
    [tenantId, name, j.owner.id, j.segmentId, ...(id ? [id] : [])]) as Promise<{ id: string }[]>;

  /** `write` in a transaction that commits only after `meanwhile` ran: a writer that took its ids first and commits late. */
  async function slowWriter(write: (q: { query: Queryable['query'] }) => Promise<void>, meanwhile: () => Promise<void>) {
    const slow = wide.createQueryRunner();
    await slow.connect();
    try {
      await slow.startTransaction();
      await write(slow);
      await meanwhile();
      await slow.commitTransaction();
    } finally {
      await slow.release();
    }
  }

  it('reads none of the segment on a pass with the cursor at its end (the cursor is a bound the planner sees), whatever the statistics say', async () => {
    const SEGMENT = 20_000;
    const j = await journeyOn(SEGMENT);
    expect(await enrollEntrants(wide, j.sopId, new Date())).toBe(SEGMENT);
    const reads: Record<string, { memberships: number; enrollments: number; blocks: number; entrants: number }> = {};
    const pass = async (state: string, expected: number) => {
      const x = await explained();
      try {
        expect(await enrollEntrants(x.db, j.sopId, new Date())).toBe(expected);
        // every statement of the pass: the bounded look past the cursor (is it a bulk enrollment?) and the enrollment
        const read = (table: string) => x.plans.reduce((sum, p) => sum + rowsRead(p.plan, table), 0);
        expect(enrollmentPlan(x.plans)).toBeDefined();
        // and every page it touched: rows read count only what a scan returned or filtered out
        const blocks = x.plans.reduce((sum, p) => sum + p.plan['Shared Hit Blocks'] + p.plan['Shared Read Blocks'], 0);
        reads[state] = { memberships: read('segment_memberships'), enrollments: read('enrollments'), blocks, entrants: expected };
      } finally {
        await x.release();
      }
    };

    // Statistics that know this segment, and nothing past it.
    await ctx.stack.db.query('ANALYZE segment_memberships, enrollments');
    // Another tenant's segment written since (a suite running beside this one): 5,000 memberships past the cursor.
    await journeyOn(5000);
    // Before: the cursor was read inside the statement, and the pass read all 20,000 memberships of the segment
    // (or the whole table) to find that none is new. Now it reads the few index entries past the cursor.
    await pass('statistics that know this segment only', 0);

    // Statistics that know both: this segment is most of the table. Before, with either statistics: the planner read
    // the memberships past the cursor from the primary key, in the bounded look, in the enrollment and for the new
    // cursor (the segment's highest id, walked back from the table's end): 15,001 rows, every other segment's past
    // the cursor, three times (a full test run, whose suites share the database, read 5,001 in the enrollment).
    await ctx.stack.db.query('ANALYZE segment_memberships, enrollments');
    await pass('statistics that know the other segment too', 0);

    // A few new members: each is probed for among the SOP's enrollments. Before: a hash anti-join read all 20,000.
    const tenantId = await tenantOf(j);
    await ctx.stack.db.query(
      `WITH c AS (INSERT INTO contacts (tenant_id, external_id, name, owner_id) SELECT $1, 'late-' || g, 'late-' || g, $2 FROM generate_series(1, 3) g RETURNING id)
       INSERT INTO segment_memberships (tenant_id, segment_id, contact_id) SELECT $1, $3, id FROM c`, [tenantId, j.owner.id, j.segmentId]);
    await pass('three new members', 3);

    // Every pass reads a few index entries of the segment, and enrollments only to probe for and insert the new ones.
    // Before (the range past the cursor beside `segment_id = $3`, the new cursor a backward walk), each of the three
    // reads of the range walked the segment's 20,000 index entries and returned none: 236 and 220 pages a pass with
    // nothing to enroll (a pass that enrolls writes each entrant into the enrollments' indexes besides).
    expect(Object.entries(reads).filter(([, r]) => r.memberships >= 50 || r.enrollments >= 50 || (r.entrants === 0 && r.blocks >= 100)))
      .toEqual([]);
  }, 180_000); // 20,000 entrants: over a minute on a loaded 2-core machine (it timed out at the default 60 s)

  it('reads none of a bulk enrollment\'s members again on the passes after it, though they entered a moment ago', async () => {
    const SEGMENT = 20_000;
    // Statistics from before the segment and its enrollments, as autovacuum leaves them right after a bulk enrollment.
    await ctx.stack.db.query('ANALYZE segment_memberships, enrollments');
    const j = await journeyOn(SEGMENT, { justNow: true });
    expect(await enrollEntrants(wide, j.sopId, new Date())).toBe(SEGMENT);
    const elsewhere = await journeyOn(1);
    const elsewhereTenant = await tenantOf(elsewhere);
    const reads: { memberships: number; enrollments: number }[] = [];
    for (let pass = 0; pass < 2; pass++) {
      // memberships keep being written elsewhere between passes, past what the statistics know
      await addMember(elsewhere, elsewhereTenant, `elsewhere-${pass}`);
      const x = await explained();
      try {
        expect(await enrollEntrants(x.db, j.sopId, new Date())).toBe(0);
        const read = (table: string) => x.plans.reduce((sum, p) => sum + rowsRead(p.plan, table), 0);
        reads.push({ memberships: read('segment_memberships'), enrollments: read('enrollments') });
      } finally {
        await x.release();
      }
    }
    // Before: every pass in the five minutes after the memberships were written read all 20,000 again and probed
    // each among the SOP's enrollments (the fault tests' 100,000: past the activity's timeout, with these statistics).
    expect(reads.filter((r) => r.memberships >= 50 || r.enrollments >= 50)).toEqual([]);
  }, 180_000);

  it('enrolls a freshly written segment (statistics that do not know it) in time linear in its size', async () => {
    const FRESH = 25_000;
    // What autovacuum leaves: statistics from before the segment was written. They take the new segment for a
    // row or so, the plan the bench met at 1,000,000 contacts (a nested loop over this SOP's enrollments).
    await ctx.stack.db.query('ANALYZE segment_memberships, enrollments');
    const j = await journeyOn(FRESH);
    expect(FRESH).toBeGreaterThanOrEqual(BULK_ENROLLMENT);

    const x = await explained();
    try {
      expect(await enrollEntrants(x.db, j.sopId, new Date())).toBe(FRESH);
      const plan = enrollmentPlan(x.plans);
      const blocks = plan['Shared Hit Blocks'] + plan['Shared Read Blocks'];
      // Each entrant costs its inserts into the enrollment indexes and its key checks: about 28 blocks (measured on
      // 50,000 fresh members among 1,000,000). Before the fix the anti-join also walked this SOP's enrollments, those
      // the statement was inserting included, once per candidate: 417 blocks per entrant here (10.4 M), 82 s.
      expect(Math.round(blocks / FRESH)).toBeLessThan(80);
      const [{ n, contacts }] = await ctx.stack.db.query(
        `SELECT count(*)::int AS n, count(DISTINCT contact_id)::int AS contacts FROM enrollments WHERE sop_id = $1`, [j.sopId]);
      expect({ n, contacts }).toEqual({ n: FRESH, contacts: FRESH });
    } finally {
      await x.release();
    }
  }, 240_000);

  it('enrolls each member once under concurrent passes, and a membership that commits late under a lower id', async () => {
    const j = await journeyOn(3000);
    const tenantId = await tenantOf(j);
    // Passes of one SOP at once, each on its own connection, while members keep arriving.
    const newMember = (name: string) => addMember(j, tenantId, name);
    await Promise.all(Array.from({ length: 8 }, () => wide.query('SELECT 1')));
    const passes = await Promise.all([
      ...Array.from({ length: 4 }, () => enrollEntrants(wide, j.sopId, new Date())),
      (async () => { for (let i = 0; i < 20; i++) await newMember(`arriving-${i}`); return 0; })(),
      ...Array.from({ length: 2 }, () => enrollEntrants(wide, j.sopId, new Date())),
    ]);
    const afterArrivals = await enrollEntrants(wide, j.sopId, new Date());
    expect(passes.reduce((a, b) => a + b, 0) + afterArrivals).toBe(3020);

    // A writer that took its id first and commits after a later writer and a pass: the pass moves the cursor past
    // its id; the next pass finds it by its transaction, which that pass's snapshot did not see. Its transaction
    // began ten minutes before (it entered then): before, only the last five minutes' entries were looked at again.
    let slowId = '';
    await slowWriter(async (slow) => {
      [{ id: slowId }] = await addMember(j, tenantId, 'slow', slow);
      await slow.query(`UPDATE segment_memberships SET entered_at = now() - interval '10 minutes' WHERE id = $1`, [slowId]);
    }, async () => {
      const [{ id: fastId }] = await newMember('fast');
      expect(Number(slowId)).toBeLessThan(Number(fastId));
      expect(await enrollEntrants(wide, j.sopId, new Date())).toBe(1);
      const [{ enroll_cursor: cursor }] = await ctx.stack.db.query(`SELECT enroll_cursor FROM sops WHERE id = $1`, [j.sopId]);
      expect(cursor).toBe(String(fastId));
    });
    expect(await enrollEntrants(wide, j.sopId, new Date())).toBe(1);
    expect(await enrollEntrants(wide, j.sopId, new Date())).toBe(0);

    // A SOP from before the deploy that added the snapshots keeps none, and the memberships written before it have no
    // writer id: its first pass looks at the last five minutes' entries under the cursor, then keeps its snapshot.
    const [{ id: unstamped }] = await newMember('written before the deploy');
    await ctx.stack.db.query(`UPDATE segment_memberships SET written_xid = NULL WHERE id = $1`, [unstamped]);
    // as if it had committed late: a pass moved the cursor past it first
    await ctx.stack.db.query(`UPDATE sops SET enroll_snapshot = NULL, enroll_cursor = $2 WHERE id = $1`, [j.sopId, unstamped]);
    expect(await enrollEntrants(wide, j.sopId, new Date())).toBe(1);
    const [{ kept }] = await ctx.stack.db.query(`SELECT enroll_snapshot IS NOT NULL AS kept FROM sops WHERE id = $1`, [j.sopId]);
    expect(kept).toBe(true);
    expect(await enrollEntrants(wide, j.sopId, new Date())).toBe(0);
    const [{ n, contacts }] = await ctx.stack.db.query(
      `SELECT count(*)::int AS n, count(DISTINCT contact_id)::int AS contacts FROM enrollments WHERE sop_id = $1`, [j.sopId]);
    expect({ n, contacts }).toEqual({ n: 3023, contacts: 3023 });
  }, 120_000);

  it('enrolls, after an activation for new members only, one that commits after it under a lower id (in a savepoint), and one written later under a lower id', async () => {
    const j = await journeyOn(0, { existing: false, activate: false });
    const tenantId = await tenantOf(j);
    let fastId = '';
    await slowWriter(async (slow) => {
      await slow.query('SAVEPOINT writing');
      await addMember(j, tenantId, 'slow', slow);
      await slow.query('RELEASE SAVEPOINT writing');
    }, async () => {
      [{ id: fastId }] = await addMember(j, tenantId, 'existing');
      // activated while the slow writer is open: its cursor passes the slow membership's id
      expect((await j.t.admin.post(`/api/sops/${j.sopId}/activate`)).status).toBe(200);
      const [{ enroll_cursor: cursor }] = await ctx.stack.db.query(`SELECT enroll_cursor FROM sops WHERE id = $1`, [j.sopId]);
      expect(cursor).toBe(String(fastId));
    });
    // Before: the window started at the activation, and the slow writer's membership had entered before it: lost.
    expect(await enrollEntrants(wide, j.sopId, new Date())).toBe(1);
    const enrolledNames = async () => (await ctx.stack.db.query(
      `SELECT c.name FROM enrollments e JOIN contacts c ON c.id = e.contact_id WHERE e.sop_id = $1 ORDER BY c.name`, [j.sopId])).map((r: { name: string }) => r.name);
    expect(await enrolledNames()).toEqual(['slow']);
    // Written after that pass under an id below its cursor: the writer began after its snapshot.
    await addMember(j, tenantId, 'later, lower id', ctx.stack.db, String(-Number(fastId)));
    expect(await enrollEntrants(wide, j.sopId, new Date())).toBe(1);
    expect(await enrollEntrants(wide, j.sopId, new Date())).toBe(0);
    expect(await enrolledNames()).toEqual(['later, lower id', 'slow']);
  });

  it('does not wait for writers that queue exit checks of the SOP (their foreign key shares the SOP row)', async () => {
    const j = await journeyOn(100);
    const tenantId = await tenantOf(j);
    // A response's transaction queues an exit check and has not committed: its foreign key holds FOR KEY SHARE on
    // the SOP's row (a stream of responses always has one open). A pass that locked the row FOR UPDATE waited for it.
    const writer = wide.createQueryRunner();
    await writer.connect();
    try {
      await writer.startTransaction();
      await writer.query(`INSERT INTO sop_exit_checks (tenant_id, sop_id, contact_id) SELECT $1, $2, id FROM contacts WHERE tenant_id = $1 LIMIT 1`,
        [tenantId, j.sopId]);
      const pass = wide.transaction(async (m) => {
        await m.query(`SET LOCAL lock_timeout = '3s'`); // before the fix: "canceling statement due to lock timeout"
        const inTransaction: Transactional = { query: (sql, params) => m.query(sql, params), transaction: (run) => run(inTransaction) };
        return enrollEntrants(inTransaction, j.sopId, new Date());
      });
      await expect(pass).resolves.toBe(100);
    } finally {
      await writer.rollbackTransaction();
      await writer.release();
    }
  });
});
