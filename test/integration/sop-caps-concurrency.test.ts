import { dataSourceOptions } from '@sop/db';
import { enrollEntrants, materializeDuePage, type Transactional } from '@sop/engine';
import { DataSource } from 'typeorm';
import { zoneWithOpenWindow } from '../support/clock';
import { createTagSystem } from '../support/fixtures';
import { addUser, signupTenant } from '../support/http';
import { testEnv } from '../support/env';
import { useStack } from '../support/stack';

/**
 * The contact cap and the executor's daily capacity hold when several SOPs' dispatchers, each with
 * several pages in flight, write tasks for the same contacts and the same executor at once. Every page
 * is its own transaction on its own connection, as the worker's activities run them.
 */
describe('SOP limits under concurrency (real Postgres)', () => {
  const ctx = useStack();
  let wide: DataSource;
  beforeAll(async () => {
    wide = await new DataSource(dataSourceOptions(testEnv('DATABASE_URL'), { extra: { max: 16 } })).initialize();
  });
  afterAll(() => wide?.destroy());

  const SOPS = 4;
  const PAGES_PER_SOP = 3;
  const CONTACTS = 30;
  const CAPACITY = 10;
  /** The customers' zone: the step's all-day window (00:00-23:59) is open there now and for hours yet (test/support/clock.ts). */
  const ZONE = zoneWithOpenWindow();

  const journey = (segmentId: string) => ({
    kind: 'journey', timezone: 'Asia/Shanghai', audience: { segmentId }, entry: { includeExistingMembers: true },
    steps: [{ name: 'Reach out', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat',
      content: { template: 'Hi {{ contact.name }}' }, executor: { rule: 'contactOwner' } }],
    policies: { businessDaysOnly: false, executorDailyCapacity: CAPACITY, overflow: 'defer' },
  });

  it('never lets concurrent pages of several SOPs overrun the per-contact cap or the executor capacity', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    for (let i = 0; i < CONTACTS; i++) {
      await t.admin.post('/api/contacts', { externalId: `c${i}`, name: `客户${i}`, ownerId: owner.id, tags: [tags.intentHigh.id], timezone: ZONE });
    }
    expect((await t.admin.put('/api/settings/contact-caps', { perDay: 1, perWeek: 7 })).status).toBe(200);
    const sops: string[] = [];
    for (let i = 0; i < SOPS; i++) {
      const sop = (await t.admin.post('/api/sops', { name: `Journey ${i}`, definition: journey(segment.id) })).body;
      expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
      sops.push(sop.id);
    }
    const now = new Date();
    for (const sop of sops) expect(await enrollEntrants(wide, sop, now)).toBe(CONTACTS);

    // Every SOP's pages at once, each on a connection already open (opening one takes longer than a page):
    // SKIP LOCKED gives each page of one SOP different enrollments.
    await Promise.all(Array.from({ length: SOPS * PAGES_PER_SOP }, () => wide.query('SELECT pg_sleep(0.05)')));
    const pages = await Promise.all(sops.flatMap((sop) =>
      Array.from({ length: PAGES_PER_SOP }, () => materializeDuePage(wide, sop, now, CONTACTS / PAGES_PER_SOP))));

    const perContact: { contact_id: string; n: number }[] = await ctx.stack.db.query(
      `SELECT contact_id, count(*)::int AS n FROM tasks WHERE sop_id = ANY($1::uuid[]) GROUP BY 1 HAVING count(*) > 1`, [sops]);
    expect(perContact).toEqual([]);
    const [{ n: ownerLoad }] = await ctx.stack.db.query(
      `SELECT count(*)::int AS n FROM tasks WHERE sop_id = ANY($1::uuid[]) AND executor_id = $2`, [sops, owner.id]);
    expect(ownerLoad).toBe(CAPACITY); // held to the capacity, and filled to it
    const tasks = pages.reduce((sum, p) => sum + p.tasks, 0);
    const deferred = pages.reduce((sum, p) => sum + p.deferred, 0);
    expect({ tasks, deferred }).toEqual({ tasks: CAPACITY, deferred: SOPS * CONTACTS - CAPACITY });
  });

  it('takes pages of 5,000 capped contacts beside each other (row locks, no shared lock table to exhaust)', async () => {
    const BIG = 5000;
    const t = await signupTenant(ctx.http);
    const owners = [];
    for (let i = 0; i < 5; i++) owners.push((await addUser(t, ctx.http, 'employee')).id);
    const segment = (await t.admin.post('/api/segments', { name: 'Everyone', rule: { attribute: { key: 'city', op: 'exists' } } })).body;
    // Seeded in SQL: 5,000 contacts through the API would take minutes. Memberships as populateSegment writes them.
    await ctx.stack.db.query(
      `WITH c AS (
         INSERT INTO contacts (tenant_id, external_id, name, owner_id, attributes, timezone)
         SELECT s.tenant_id, 'big-' || g, '客户 ' || g, ($2::uuid[])[1 + g % 5], '{"city": "上海"}', $4 FROM segments s, generate_series(1, $3::int) g
          WHERE s.id = $1 RETURNING id, tenant_id)
       INSERT INTO segment_memberships (tenant_id, segment_id, contact_id, entered_at) SELECT tenant_id, $1, id, now() - interval '1 hour' FROM c`,
      [segment.id, owners, BIG, ZONE]);
    expect((await t.admin.put('/api/settings/contact-caps', { perDay: 1, perWeek: 7 })).status).toBe(200);
    const sops: string[] = [];
    for (let i = 0; i < SOPS; i++) {
      const definition = { ...journey(segment.id), policies: { businessDaysOnly: false, executorDailyCapacity: 10_000, overflow: 'reassign' } };
      const sop = (await t.admin.post('/api/sops', { name: `Big ${i}`, definition })).body;
      expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
      sops.push(sop.id);
    }
    const now = new Date();
    for (const sop of sops) expect(await enrollEntrants(wide, sop, now)).toBe(BIG);

    const pages = await Promise.all(sops.map((sop) => materializeDuePage(wide, sop, now, BIG)));
    expect(pages.reduce((sum, p) => sum + p.tasks, 0)).toBe(BIG); // one task per contact, whichever page got there first
    expect(pages.reduce((sum, p) => sum + p.deferred, 0)).toBe((SOPS - 1) * BIG);
    const [{ n }] = await ctx.stack.db.query(
      `SELECT count(*)::int AS n FROM (SELECT contact_id FROM tasks WHERE sop_id = ANY($1::uuid[]) GROUP BY 1 HAVING count(*) > 1) x`, [sops]);
    expect(n).toBe(0);
  });

  it('an archive racing a page that reopens its finished enrollment (a cap\'s bump) leaves no active enrollment', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    expect((await t.admin.put('/api/settings/contact-caps', { perDay: 1, perWeek: 7 })).status).toBe(200);
    const segment = (await t.admin.post('/api/segments', { name: 'High', rule: { tag: tags.intentHigh.id } })).body;
    // No exit conditions on the nurture: its reopening then writes no exit check, whose foreign key would lock its SOP.
    const activated = async (name: string, priority: number) => {
      const sop = (await t.admin.post('/api/sops', { name, definition: { ...journey(segment.id), policies: { businessDaysOnly: false, priority } } })).body;
      expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
      return sop.id as string;
    };
    const nurture = await activated('Nurture', 30);
    const vip = await activated('VIP', 80);
    await t.admin.post('/api/contacts', { externalId: 'wang', name: 'wang', ownerId: owner.id, tags: [tags.intentHigh.id], timezone: ZONE });
    const now = new Date();
    expect(await enrollEntrants(wide, nurture, now)).toBe(1);
    expect(await materializeDuePage(wide, nurture, now, 10)).toMatchObject({ tasks: 1, completed: 1 });
    expect(await enrollEntrants(wide, vip, now)).toBe(1);

    // The VIP page bumps the nurture's task and reopens its finished enrollment, then holds its transaction open
    // until the nurture's archive waits for it.
    let written!: (pid: number) => void;
    let release!: () => void;
    const pageWritten = new Promise<number>((r) => { written = r; });
    const held = new Promise<void>((r) => { release = r; });
    const gated: Transactional = {
      query: (sql, params) => wide.query(sql, params),
      transaction: (run) => wide.transaction(async (m) => {
        const out = await run(m);
        written((await m.query('SELECT pg_backend_pid() AS pid'))[0].pid);
        await held;
        return out;
      }),
    };
    const page = materializeDuePage(gated, vip, now, 10);
    try {
      const pagePid = await Promise.race([pageWritten, page.then((): never => { throw new Error('the page ended before it held its transaction'); })]);
      const archive = t.admin.post(`/api/sops/${nurture}/archive`);
      let waiting = 0;
      for (let i = 0; i < 600 && !waiting; i++) {
        await new Promise((r) => setTimeout(r, 50));
        [{ n: waiting }] = await wide.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [pagePid]);
      }
      expect(waiting).toBeGreaterThan(0);
      release();
      expect(await page).toMatchObject({ tasks: 1, deferred: 0 });
      expect((await archive).status).toBe(200);
    } finally {
      release();
    }
    const enrollments = await wide.query(`SELECT status, close_reason FROM enrollments WHERE sop_id = $1`, [nurture]);
    expect(enrollments).toEqual([{ status: 'exited', close_reason: 'SOP archived' }]);
    const [{ n: nurtureTasks }] = await wide.query(`SELECT count(*)::int AS n FROM tasks WHERE sop_id = $1`, [nurture]);
    expect(nurtureTasks).toBe(0); // the bumped task went with the page
  });
});
