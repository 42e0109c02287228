import { MIGRATIONS } from '@sop/db';
import { enrollEntrants } from '@sop/engine';
import type { DataSource } from 'typeorm';
import { createTagSystem } from '../support/fixtures';
import { type Http, signupTenant } from '../support/http';
import { privateStack } from '../support/private-database';

/**
 * Deploying the exit re-check by changes (`ExitRecheckQueueAtDeploy`, see its comment), in a database of this file's
 * own: the migration reads and updates every SOP, which in the suites' shared database would hold other files' SOPs.
 */
describe('the exit re-check at deploy (real Postgres)', () => {
  const ctx = {} as { http: Http; db: DataSource; close: () => Promise<void> };

  beforeAll(async () => {
    const own = await privateStack('exit_recheck_deploy');
    Object.assign(ctx, { http: own.http, db: own.stack.db, close: own.close });
  }, 120_000);
  afterAll(() => ctx.close?.());

  async function journey(name: string, exitOn: unknown[], contacts: string[]) {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const segment = (await t.admin.post('/api/segments', { name, rule: { tag: tags.intentHigh.id } })).body;
    const sop = (await t.admin.post('/api/sops', { name, definition: {
      kind: 'journey', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
      steps: [{ name: 'Call', offsetDays: 3, window: { start: '00:00', end: '23:59' }, channel: 'phone_call',
        content: { template: 'Call {{ contact.name }}' }, executor: { rule: 'contactOwner' } }],
      policies: { businessDaysOnly: false, exitOn },
    } })).body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    const ids: Record<string, string> = {};
    for (const c of contacts) ids[c] = (await t.admin.post('/api/contacts', { externalId: c, name: c, tags: [tags.intentHigh.id] })).body.id;
    expect(await enrollEntrants(ctx.db, sop.id, new Date())).toBe(contacts.length);
    return { id: sop.id as string, ids };
  }

  it('queues a check for each enrollment the re-check by enrollments would still read, and drops the kept snapshots', async () => {
    const bought = await journey('Bought', [{ on: 'bought' }], ['recent', 'settled', 'handed']);
    const none = await journey('No exits', [], ['a']);
    const unpassed = await journey('No pass yet', [{ on: 'replied' }], ['entered']); // no bound yet: all of it
    // 'settled' entered below its SOP's bound; 'recent' at it; 'handed', below it, was handed over from another journey.
    await ctx.db.query(`UPDATE sops SET exit_recheck_from = (SELECT entered_xid FROM enrollments WHERE sop_id = $1 AND contact_id = $2),
      exit_recheck_next = pg_snapshot_xmin(pg_current_snapshot()), exit_recheck_after = pg_snapshot_xmax(pg_current_snapshot()) WHERE id = $1`,
    [bought.id, bought.ids.recent]);
    await ctx.db.query(`UPDATE enrollments SET entered_xid = '1' WHERE sop_id = $1 AND contact_id = ANY($2::uuid[])`,
      [bought.id, [bought.ids.settled, bought.ids.handed]]);
    await ctx.db.query(`UPDATE enrollments SET entry_no = -entry_no WHERE sop_id = $1 AND contact_id = $2`, [bought.id, bought.ids.handed]);
    await ctx.db.query(`DELETE FROM sop_exit_checks`);

    const migration = MIGRATIONS.find((m) => m.name === 'ExitRecheckQueueAtDeploy1765810000000')!;
    const runner = ctx.db.createQueryRunner();
    try {
      await new migration().up(runner);
    } finally {
      await runner.release();
    }
    const queued = await ctx.db.query(`SELECT sop_id, contact_id FROM sop_exit_checks`);
    expect(queued).toHaveLength(3);
    expect(queued).toEqual(expect.arrayContaining([
      { sop_id: bought.id, contact_id: bought.ids.recent },
      { sop_id: bought.id, contact_id: bought.ids.handed },
      { sop_id: unpassed.id, contact_id: unpassed.ids.entered },
    ]));
    expect(queued.some((q: { sop_id: string }) => q.sop_id === none.id)).toBe(false);
    const [{ kept }] = await ctx.db.query(`SELECT count(*)::int AS kept FROM sops WHERE exit_recheck_next IS NOT NULL OR exit_recheck_after IS NOT NULL`);
    expect(kept).toBe(0);
  });
});
