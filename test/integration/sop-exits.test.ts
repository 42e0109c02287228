import { applyExits, changeTags, enrollEntrants, exitPass, journeysToWake, materializeDuePage, outboxEnd } from '@sop/engine';
import { createActivities } from '@sop/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { zoneWithOpenWindow } from '../support/clock';
import { createTagSystem } from '../support/fixtures';
import { addUser, signupTenant } from '../support/http';
import { waitUntil } from '../support/poll';
import { heldUp, inSession } from '../support/sessions';
import { useStack } from '../support/stack';

/** Exit conditions are transitions after entry, evaluated for the contacts that changed. */
describe('SOP exits (real Postgres)', () => {
  const ctx = useStack();
  const pause = () => new Promise((r) => setTimeout(r, 5));

  type Tags = Record<string, { id: string }>;

  async function journey(
    exitOn: (tags: Tags) => unknown[], contacts: { name: string; tags?: string[]; lastOrderAt?: string }[], reentry: 'never' | 'afterExit' = 'never',
  ) {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    const segment = (await t.admin.post('/api/segments', { name: 'High', rule: { tag: tags.intentHigh.id } })).body;
    const sop = (await t.admin.post('/api/sops', { name: 'Exits', definition: {
      kind: 'journey', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true, reentry },
      steps: [{ name: 'Call', offsetDays: 3, window: { start: '00:00', end: '23:59' }, channel: 'phone_call',
        content: { template: 'Call {{ contact.name }}' }, executor: { rule: 'contactOwner' } }],
      policies: { businessDaysOnly: false, exitOn: exitOn(tags) },
    } })).body;
    expect(sop.id).toBeDefined();
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    const ids: Record<string, string> = {};
    for (const c of contacts) {
      const tagIds = (c.tags ?? []).map((k) => (tags as Tags)[k].id);
      ids[c.name] = (await t.admin.post('/api/contacts', {
        externalId: c.name, name: c.name, ownerId: owner.id, tags: [tags.intentHigh.id, ...tagIds], lastOrderAt: c.lastOrderAt,
      })).body.id;
    }
    await pause();
    expect(await enrollEntrants(ctx.stack.db, sop.id, new Date())).toBe(contacts.length);
    await pause();
    const status = async () => Object.fromEntries((await ctx.stack.db.query(
      `SELECT contact_id, status, close_reason FROM enrollments WHERE sop_id = $1`, [sop.id]))
      .map((r: { contact_id: string; status: string; close_reason: string | null }) =>
        [Object.keys(ids).find((k) => ids[k] === r.contact_id), r.close_reason ?? r.status]));
    const tag = (name: string, change: { add?: string[]; remove?: string[] }) => t.admin.post(`/api/contacts/${ids[name]}/tags`, {
      add: (change.add ?? []).map((k) => (tags as Tags)[k].id),
      remove: (change.remove ?? []).map((k) => (tags as Tags)[k].id),
    });
    const [{ tenant_id: tenantId }] = await ctx.stack.db.query(`SELECT tenant_id FROM sops WHERE id = $1`, [sop.id]);
    return { t, sop, segmentId: segment.id as string, tenantId: tenantId as string, ids, tags, status, tag };
  }

  it('re-entry after exit: a contact whose exit is due, and who left and entered the segment again, enters anew in the same pass', async () => {
    const j = await journey((tags) => [{ on: 'tagAdded', tagId: tags.productA.id }], [{ name: 'back' }], 'afterExit');
    const open = async () => (await ctx.stack.db.query(
      `SELECT count(*)::int AS n FROM segment_memberships WHERE segment_id = $1 AND contact_id = $2 AND exited_at IS NULL`,
      [j.segmentId, j.ids.back]))[0].n;
    expect((await j.tag('back', { add: ['productA'], remove: ['intentHigh'] })).status).toBe(200);
    await waitUntil(open, (n) => n === 0, 'the contact left the segment');
    expect((await j.tag('back', { add: ['intentHigh'] })).status).toBe(200);
    await waitUntil(open, (n) => n === 1, 'the contact entered the segment again');
    const activities = createActivities(ctx.stack.db, 'reentry-test');
    // Before, the enrollment ran first: the new entry met the active enrollment and enrolled nothing, and the exit
    // closed that enrollment after it (within five minutes the window retried the entry; since, nothing did).
    const pass = await new MockActivityEnvironment().run(activities.prepareDispatch, { sopId: j.sop.id, now: Date.now() });
    expect(pass).toMatchObject({ exited: 1, enrolled: 1 });
    const rows = await ctx.stack.db.query(`SELECT status, close_reason FROM enrollments WHERE sop_id = $1 ORDER BY id`, [j.sop.id]);
    expect(rows).toEqual([{ status: 'exited', close_reason: 'tag added' }, { status: 'active', close_reason: null }]);
  });

  it('tagAdded: a tag had at entry is no exit; adding it after entry is, also removed and added again', async () => {
    const j = await journey((tags) => [{ on: 'tagAdded', tagId: tags.productA.id }],
      [{ name: 'had', tags: ['productA'] }, { name: 'without' }, { name: 'untouched', tags: ['productA'] }]);
    expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(0);
    expect(await j.status()).toEqual({ had: 'active', without: 'active', untouched: 'active' });

    expect((await j.tag('had', { remove: ['productA'] })).status).toBe(200);
    expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(0); // removing is not adding
    expect((await j.tag('had', { add: ['productA'] })).status).toBe(200);
    expect((await j.tag('without', { add: ['productA'] })).status).toBe(200);
    expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(2);
    expect(await j.status()).toEqual({ had: 'tag added', without: 'tag added', untouched: 'active' });
  });

  it('tagRemoved: never having had the tag is no exit; removing it after entry is, whether had at entry or added since', async () => {
    const j = await journey((tags) => [{ on: 'tagRemoved', tagId: tags.productA.id }],
      [{ name: 'had', tags: ['productA'] }, { name: 'never' }, { name: 'later' }]);
    expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(0);
    expect(await j.status()).toEqual({ had: 'active', never: 'active', later: 'active' });

    expect((await j.tag('later', { add: ['productA'] })).status).toBe(200);
    expect((await j.tag('never', { add: ['productB'] })).status).toBe(200); // another tag changes: still no exit
    expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(0);
    expect((await j.tag('had', { remove: ['productA'] })).status).toBe(200);
    expect((await j.tag('later', { remove: ['productA'] })).status).toBe(200);
    expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(2);
    expect(await j.status()).toEqual({ had: 'tag removed', never: 'active', later: 'tag removed' });
  });

  it('bought: an order before entry is no exit, an order after entry is,', async () => {
    const j = await journey(() => [{ on: 'bought' }], [{ name: 'earlier', lastOrderAt: new Date(Date.now() - 86_400_000).toISOString() }, { name: 'buyer' }]);
    expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(0);
    expect((await j.t.admin.patch(`/api/contacts/${j.ids.buyer}`, { lastOrderAt: new Date().toISOString() })).status).toBe(200);
    expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(1);
    expect(await j.status()).toEqual({ earlier: 'active', buyer: 'bought' });
  });

  /**
   * Exit passes (none may close anything) until the SOP's late-commit re-check bound has passed all of its
   * enrollments: from then on, only a queued check brings one up. The bound waits for every transaction of the
   * server that was running when a pass saw them, so this polls.
   */
  async function settle(sopId: string) {
    await waitUntil(async () => {
      expect(await applyExits(ctx.stack.db, sopId)).toBe(0);
      return (await ctx.stack.db.query(
        `SELECT coalesce(s.exit_recheck_from > (SELECT max(e.entered_xid) FROM enrollments e WHERE e.sop_id = s.id), false) AS past
           FROM sops s WHERE s.id = $1`, [sopId]))[0].past;
    }, (past) => past, 'the re-check bound to pass the enrollments', 60_000);
  }

  /** Exit passes (none may close anything) until the SOP's change bound is past every change of its tenant so far. */
  async function settleChanges(sopId: string) {
    await waitUntil(async () => {
      expect(await applyExits(ctx.stack.db, sopId)).toBe(0);
      return (await ctx.stack.db.query(
        `SELECT s.exit_recheck_changes_from > (SELECT max(d.written_xid) FROM domain_events d WHERE d.tenant_id = s.tenant_id) AS past
           FROM sops s WHERE s.id = $1`, [sopId]))[0].past;
    }, (past) => past, 'the change bound to pass the changes so far', 60_000);
  }

  it('looks only at contacts that changed, and a change committed while a pass runs is evaluated by the next pass', async () => {
    const j = await journey((tags) => [{ on: 'tagAdded', tagId: tags.productA.id }],
      [{ name: 'a' }, { name: 'b' }]);
    // Past the late-commit re-check, so only a queued check brings an enrollment up.
    await settle(j.sop.id);
    // A tag event written behind the outbox's back is not looked at: nothing announced a change.
    await ctx.stack.db.query(`INSERT INTO tag_events (tenant_id, contact_id, tag_id, action, actor_type) VALUES ($1, $2, $3, 'added', 'system')`,
      [j.tenantId, j.ids.b, j.tags.productA.id]);
    expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(0);

    const runner = ctx.stack.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      await changeTags(runner, j.tenantId, [j.ids.a], { add: [j.tags.productA.id] }, { type: 'system', id: null });
      expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(0); // the pass runs before the change commits
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
    expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(1);
    expect(await j.status()).toEqual({ a: 'tag added', b: 'active' });
    const [{ n }] = await ctx.stack.db.query(`SELECT count(*)::int AS n FROM sop_exit_checks WHERE sop_id = $1`, [j.sop.id]);
    expect(n).toBe(0);
  });
  it('a change whose trigger ran before the enrollment committed is still evaluated (the late-commit window)', async () => {
    const j = await journey(() => [{ on: 'leftSegment' }], [{ name: 'early' }]);
    // A contact joins the segment after the first pass and leaves it while the next pass is enrolling it: the pass's
    // snapshot still has the membership open, and the change's outbox trigger ran before the enrollment committed,
    // so it saw no enrollment and queued no check. Written here in that order: the change, then the enrollment.
    const late = (await j.t.admin.post('/api/contacts', { externalId: 'late', name: 'late', tags: [j.tags.intentHigh.id] })).body.id;
    const [membership] = await ctx.stack.db.query(
      `SELECT m.id FROM segment_memberships m JOIN sops s ON s.id = $1 JOIN sop_versions v ON v.sop_id = s.id AND v.version = s.current_version
        WHERE m.contact_id = $2 AND m.segment_id = (v.definition->'audience'->>'segmentId')::uuid`, [j.sop.id, late]);
    expect(membership).toBeDefined();
    await changeTags(ctx.stack.db, j.tenantId, [late], { remove: [j.tags.intentHigh.id] }, { type: 'system', id: null });
    const [{ n: queued }] = await ctx.stack.db.query(`SELECT count(*)::int AS n FROM sop_exit_checks WHERE sop_id = $1`, [j.sop.id]);
    expect(queued).toBe(0);
    await ctx.stack.db.query(
      `INSERT INTO enrollments (tenant_id, sop_id, sop_version_id, contact_id, entry_no, next_due_at, entered_at)
       SELECT tenant_id, id, (SELECT v.id FROM sop_versions v WHERE v.sop_id = s.id AND v.version = s.current_version), $2, $3, now(), now()
         FROM sops s WHERE s.id = $1`, [j.sop.id, late, membership.id]);
    expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(1);
    const [row] = await ctx.stack.db.query(`SELECT status, close_reason FROM enrollments WHERE sop_id = $1 AND contact_id = $2`, [j.sop.id, late]);
    expect(row).toEqual({ status: 'exited', close_reason: 'left the segment' });
    expect(await j.status()).toMatchObject({ early: 'active' });
  });

  it('the late-commit re-check is bounded: once every transaction that ran while an enrollment was written has ended and a pass has run, it is not re-read', async () => {
    const j = await journey(() => [{ on: 'bought' }], [{ name: 'settled' }]);
    await settle(j.sop.id);
    // An order written behind the outbox's back (no event, no check): with the re-check bounded, no pass looks at it.
    // The five-minute window re-read every enrollment entered in the last five minutes on every pass, and closed it.
    await ctx.stack.db.query(`UPDATE contacts SET last_order_at = now() WHERE id = $1`, [j.ids.settled]);
    expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(0);
    expect(await j.status()).toEqual({ settled: 'active' });
    // Announced, the same change closes it.
    expect((await j.t.admin.patch(`/api/contacts/${j.ids.settled}`, { lastOrderAt: new Date().toISOString() })).status).toBe(200);
    expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(1);
    expect(await j.status()).toEqual({ settled: 'bought' });
  });

  it('the bound waits for a transaction that began before the enrollment committed, however many passes run meanwhile', async () => {
    const j = await journey(() => [{ on: 'bought' }], [{ name: 'early' }]);
    await settle(j.sop.id);
    const late = (await j.t.admin.post('/api/contacts', { externalId: 'late', name: 'late', tags: [j.tags.intentHigh.id] })).body.id;
    // A writer has its transaction id, then the contact enters, then passes run while the writer is still open.
    const writer = ctx.stack.db.createQueryRunner();
    await writer.connect();
    try {
      await writer.startTransaction();
      // Its change is announced before the contact enters: the outbox trigger sees no enrollment and queues no check.
      await writer.query(`INSERT INTO domain_events (tenant_id, type, payload) VALUES ($1, 'contact.updated', $2)`,
        [j.tenantId, { contactIds: [late], fields: ['lastOrderAt'] }]);
      expect(await enrollEntrants(ctx.stack.db, j.sop.id, new Date())).toBe(1);
      for (let i = 0; i < 5; i++) {
        expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(0);
        await new Promise((r) => setTimeout(r, 50));
      }
      await writer.query(`UPDATE contacts SET last_order_at = clock_timestamp() WHERE id = $1`, [late]);
      await writer.commitTransaction();
    } finally {
      await writer.release();
    }
    const [{ n: queued }] = await ctx.stack.db.query(`SELECT count(*)::int AS n FROM sop_exit_checks WHERE sop_id = $1`, [j.sop.id]);
    expect(queued).toBe(0);
    expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(1);
    const [row] = await ctx.stack.db.query(`SELECT status, close_reason FROM enrollments WHERE sop_id = $1 AND contact_id = $2`, [j.sop.id, late]);
    expect(row).toEqual({ status: 'exited', close_reason: 'bought' });
    expect(await j.status()).toMatchObject({ early: 'active' });
  });

  it('a pass that another pass overtook moves no bound: what it read is compared and set', async () => {
    const j = await journey(() => [{ on: 'bought' }], [{ name: 'a' }]);
    const bounds = async () => (await ctx.stack.db.query(
      `SELECT exit_recheck_from::text AS "from", exit_recheck_changes_from::text AS "changesFrom", exit_recheck_next::text AS next,
              exit_recheck_after::text AS after FROM sops WHERE id = $1`, [j.sop.id]))[0];
    expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(0); // keeps its snapshot
    // Until a pass may move the bounds: every transaction that had an id when the first pass kept its snapshot has ended.
    await waitUntil(async () => (await ctx.stack.db.query(
      `SELECT pg_snapshot_xmin(pg_current_snapshot()) > exit_recheck_after AS ended FROM sops WHERE id = $1`, [j.sop.id]))[0].ended,
    (ended) => ended, 'the transactions running at the first pass to end', 60_000);
    const before = await bounds();
    // A queued check the other pass holds: this pass has read the bounds and waits to take the check.
    await ctx.stack.db.query(`INSERT INTO sop_exit_checks (tenant_id, sop_id, contact_id) VALUES ($1, $2, $3)`, [j.tenantId, j.sop.id, j.ids.a]);
    const moved = await inSession(ctx.stack.db, async (q, pid) => {
      await q(`SELECT 1 FROM sop_exit_checks WHERE sop_id = $1 FOR UPDATE`, [j.sop.id]);
      const pass = exitPass(ctx.stack.db, j.sop.id);
      await heldUp(ctx.stack.db, pid, 'the pass');
      // The other pass moves the bounds and commits first.
      const [[row]] = await q(`UPDATE sops SET exit_recheck_changes_from = coalesce(exit_recheck_from, exit_recheck_changes_from),
          exit_recheck_from = exit_recheck_next, exit_recheck_next = pg_snapshot_xmin(pg_current_snapshot()), exit_recheck_after = pg_current_xact_id()
        WHERE id = $1 RETURNING exit_recheck_from::text AS "from", exit_recheck_changes_from::text AS "changesFrom",
          exit_recheck_next::text AS next, exit_recheck_after::text AS after`, [j.sop.id]);
      await q('COMMIT');
      expect(await pass).toEqual({ closed: 0, evaluated: 1 });
      return row;
    });
    expect(moved).toMatchObject({ from: before.next, changesFrom: before.changesFrom });
    expect(await bounds()).toEqual(moved);
  });

  it('a pass does not wait for a SOP row another holds: it moves no bound, and a later pass does', async () => {
    const j = await journey(() => [{ on: 'bought' }], [{ name: 'a' }]);
    const bounds = async () => (await ctx.stack.db.query(`SELECT exit_recheck_next::text AS next FROM sops WHERE id = $1`, [j.sop.id]))[0];
    // A page of a journey handing over to this one holds its row (FOR SHARE) to the end of the page.
    await inSession(ctx.stack.db, async (q) => {
      await q(`SELECT 1 FROM sops WHERE id = $1 FOR SHARE`, [j.sop.id]);
      expect(await exitPass(ctx.stack.db, j.sop.id)).toMatchObject({ closed: 0 }); // waited here before
      expect(await bounds()).toEqual({ next: null });
    });
    expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(0);
    expect((await bounds()).next).not.toBeNull();
  });

  // The xmax bound failed this only when the writer's id was above every ended transaction's at the first pass, as when
  // the file runs alone; in a full run other files' commits usually put the writer in the snapshot's running list.
  it('the bound waits for a change begun after the enrollment took its id, still open while passes run', async () => {
    const j = await journey(() => [{ on: 'bought' }], [{ name: 'early' }]);
    await settle(j.sop.id);
    const late = (await j.t.admin.post('/api/contacts', { externalId: 'late', name: 'late', tags: [j.tags.intentHigh.id] })).body.id;
    const [membership] = await ctx.stack.db.query(
      `SELECT m.id FROM segment_memberships m JOIN sops s ON s.id = $1 JOIN sop_versions v ON v.sop_id = s.id AND v.version = s.current_version
        WHERE m.contact_id = $2 AND m.segment_id = (v.definition->'audience'->>'segmentId')::uuid AND m.exited_at IS NULL`, [j.sop.id, late]);
    await inSession(ctx.stack.db, async (blocker, blockerPid) => {
      // The same entry, uncommitted: the enrollment, holding its id (the SOP's row lock), waits for it.
      await blocker(`INSERT INTO enrollments (tenant_id, sop_id, sop_version_id, contact_id, entry_no, next_due_at, entered_at)
        SELECT tenant_id, sop_id, sop_version_id, $2, $3, now(), now() FROM enrollments WHERE sop_id = $1 LIMIT 1`, [j.sop.id, late, membership.id]);
      const enrolled = enrollEntrants(ctx.stack.db, j.sop.id, new Date());
      await heldUp(ctx.stack.db, blockerPid, 'the enrollment');
      await inSession(ctx.stack.db, async (writer) => {
        // The writer takes its id after the enrollment's and announces its change before the enrollment commits.
        await writer(`INSERT INTO domain_events (tenant_id, type, payload) VALUES ($1, 'contact.updated', $2)`,
          [j.tenantId, { contactIds: [late], fields: ['lastOrderAt'] }]);
        await blocker('ROLLBACK');
        expect(await enrolled).toBe(1);
        for (let i = 0; i < 5; i++) {
          expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(0);
          await new Promise((r) => setTimeout(r, 50));
        }
        await writer(`UPDATE contacts SET last_order_at = clock_timestamp() WHERE id = $1`, [late]);
        await writer('COMMIT');
      });
    });
    expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(1);
    const [row] = await ctx.stack.db.query(`SELECT status, close_reason FROM enrollments WHERE sop_id = $1 AND contact_id = $2`, [j.sop.id, late]);
    expect(row).toEqual({ status: 'exited', close_reason: 'bought' });
  });

  it('a journey just activated is not re-read whole: its first passes evaluate only the entrants whose change could have missed them', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      ids.push((await t.admin.post('/api/contacts', { externalId: `c${i}`, name: `c${i}`, tags: [tags.intentHigh.id] })).body.id);
    }
    // The customers were there before the journey: every transaction that ran with their changes has ended before
    // it is created (another test file's open transaction would otherwise keep them in the journey's change bound).
    const [{ tenant_id: tenantId }] = await ctx.stack.db.query(`SELECT tenant_id FROM contacts WHERE id = $1`, [ids[0]]);
    for (const until = Date.now() + 30_000; ;) {
      const [{ ended }] = await ctx.stack.db.query(`SELECT pg_snapshot_xmin(pg_current_snapshot()) > max(written_xid) AS ended
        FROM domain_events WHERE tenant_id = $1`, [tenantId]);
      if (ended) break;
      if (Date.now() > until) throw new Error('the transactions running with the contacts\' changes did not end in 30 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    const segment = (await t.admin.post('/api/segments', { name: 'High', rule: { tag: tags.intentHigh.id } })).body;
    const sop = (await t.admin.post('/api/sops', { name: 'Fresh', definition: {
      kind: 'journey', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
      steps: [{ name: 'Call', offsetDays: 3, window: { start: '00:00', end: '23:59' }, channel: 'phone_call',
        content: { template: 'Call {{ contact.name }}' }, executor: { rule: 'contactOwner' } }],
      policies: { businessDaysOnly: false, exitOn: [{ on: 'tagAdded', tagId: tags.productA.id }] },
    } })).body;
    expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    expect(await enrollEntrants(ctx.stack.db, sop.id, new Date())).toBe(30);
    await pause();
    // Before the re-check bound has moved: one entrant takes the tag, another an unrelated one; nobody else changed.
    expect((await t.admin.post(`/api/contacts/${ids[0]}/tags`, { add: [tags.productA.id], remove: [] })).status).toBe(200);
    expect((await t.admin.post(`/api/contacts/${ids[1]}/tags`, { add: [tags.productB.id], remove: [] })).status).toBe(200);
    // Evaluated: those two, not the 30 entrants (before: every enrollment written since the bound, each pass).
    expect(await exitPass(ctx.stack.db, sop.id)).toEqual({ closed: 1, evaluated: 2 });
    expect(await exitPass(ctx.stack.db, sop.id)).toEqual({ closed: 0, evaluated: 1 });
  });

  it('a journey without exit conditions reads no changes', async () => {
    const j = await journey(() => [], [{ name: 'a' }, { name: 'b' }]);
    expect((await j.tag('a', { add: ['productA'] })).status).toBe(200);
    expect(await exitPass(ctx.stack.db, j.sop.id)).toEqual({ closed: 0, evaluated: 0 });
  });

  it('a contact handed over is checked against the new journey\'s exits: a reply made after the finishing pass took its time counts', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    const step = (offsetDays: number) => ({ name: 'Call', offsetDays, window: { start: '00:00', end: '23:59' }, channel: 'phone_call',
      content: { template: 'Call {{ contact.name }}' }, executor: { rule: 'contactOwner' } });
    const segment = async (name: string, tagId: string) => (await t.admin.post('/api/segments', { name, rule: { tag: tagId } })).body;
    const followUp = (await t.admin.post('/api/sops', { name: 'Follow-up', definition: {
      kind: 'journey', audience: { segmentId: (await segment('B', tags.productB.id)).id }, steps: [step(3)],
      policies: { businessDaysOnly: false, exitOn: [{ on: 'replied' }] },
    } })).body;
    const welcome = (await t.admin.post('/api/sops', { name: 'Welcome', definition: {
      kind: 'journey', audience: { segmentId: (await segment('High', tags.intentHigh.id)).id }, entry: { includeExistingMembers: true },
      steps: [step(0)], policies: { businessDaysOnly: false, onFinish: { handoverSopId: followUp.id } },
    } })).body;
    for (const sop of [followUp, welcome]) expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    const contact = (await t.admin.post('/api/contacts', {
      externalId: 'zhang', name: 'zhang', ownerId: owner.id, tags: [tags.intentHigh.id], timezone: zoneWithOpenWindow(),
    })).body;
    // The finishing dispatcher's time, taken before the reply: a loop of pages and retries can keep it for minutes.
    const then = new Date();
    expect(await enrollEntrants(ctx.stack.db, welcome.id, then)).toBe(1);
    await pause();
    expect((await t.admin.patch(`/api/contacts/${contact.id}`, { lastRespondedAt: new Date().toISOString() })).status).toBe(200);
    // The follow-up's passes run on until its change bound is past the reply (its trigger saw no follow-up enrollment).
    await settleChanges(followUp.id);
    expect(await materializeDuePage(ctx.stack.db, welcome.id, then, 100)).toMatchObject({ tasks: 1, completed: 1 });
    const [handed] = await ctx.stack.db.query(`SELECT status, entered_at FROM enrollments WHERE sop_id = $1`, [followUp.id]);
    expect(handed).toEqual({ status: 'active', entered_at: then });
    expect(await exitPass(ctx.stack.db, followUp.id)).toEqual({ closed: 1, evaluated: 1 });
    const [row] = await ctx.stack.db.query(`SELECT status, close_reason FROM enrollments WHERE sop_id = $1`, [followUp.id]);
    expect(row).toEqual({ status: 'exited', close_reason: 'replied' });
  });

  it('a finished enrollment a cap reopens is checked for the exits the contact reached meanwhile', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    expect((await t.admin.put('/api/settings/contact-caps', { perDay: 1, perWeek: 3 })).status).toBe(200);
    const segment = (await t.admin.post('/api/segments', { name: 'High', rule: { tag: tags.intentHigh.id } })).body;
    const sop = async (name: string, policies: Record<string, unknown>) => {
      const created = (await t.admin.post('/api/sops', { name, definition: {
        kind: 'journey', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
        steps: [{ name: 'Call', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'phone_call',
          content: { template: 'Call {{ contact.name }}' }, executor: { rule: 'contactOwner' } }],
        policies: { businessDaysOnly: false, ...policies },
      } })).body;
      expect((await t.admin.post(`/api/sops/${created.id}/activate`)).status).toBe(200);
      return created.id as string;
    };
    const nurture = await sop('Nurture', { priority: 30, exitOn: [{ on: 'replied' }] });
    const vip = await sop('VIP', { priority: 80 });
    const contact = (await t.admin.post('/api/contacts', {
      externalId: 'wang', name: 'wang', ownerId: owner.id, tags: [tags.intentHigh.id], timezone: zoneWithOpenWindow(),
    })).body;
    const now = new Date();
    expect(await enrollEntrants(ctx.stack.db, nurture, now)).toBe(1);
    expect(await materializeDuePage(ctx.stack.db, nurture, now, 100)).toMatchObject({ tasks: 1, completed: 1 });
    const [{ entered_xid: enteredBefore }] = await ctx.stack.db.query(`SELECT entered_xid::text FROM enrollments WHERE sop_id = $1`, [nurture]);
    await pause();
    // A reply while the enrollment is finished queues no check; the nurture's passes carry its bounds past it.
    expect((await t.admin.patch(`/api/contacts/${contact.id}`, { lastRespondedAt: new Date().toISOString() })).status).toBe(200);
    await settleChanges(nurture);
    // The VIP journey takes the capped day: the nurture's last task goes, and its finished enrollment reopens.
    expect(await enrollEntrants(ctx.stack.db, vip, now)).toBe(1);
    expect(await materializeDuePage(ctx.stack.db, vip, now, 100)).toMatchObject({ tasks: 1 });
    const [reopened] = await ctx.stack.db.query(
      `SELECT status, next_step, entered_xid > $2::xid8 AS reentered FROM enrollments WHERE sop_id = $1`, [nurture, enteredBefore]);
    // ...written again as by an entry: a change racing the reopening is re-checked by transaction id
    expect(reopened).toEqual({ status: 'active', next_step: 0, reentered: true });
    expect(await exitPass(ctx.stack.db, nurture)).toEqual({ closed: 1, evaluated: 1 });
    const [row] = await ctx.stack.db.query(`SELECT status, close_reason FROM enrollments WHERE sop_id = $1`, [nurture]);
    expect(row).toEqual({ status: 'exited', close_reason: 'replied' });
  });

  it('bought, replied and tagAdded from a CSV import: the import announces what changed, so the exits hold at once', async () => {
    const before = new Date(Date.now() - 86_400_000).toISOString();
    const j = await journey((tags) => [{ on: 'bought' }, { on: 'replied' }, { on: 'tagAdded', tagId: tags.productA.id }],
      [{ name: 'buyer' }, { name: 'replier' }, { name: 'tagged' }, { name: 'same', lastOrderAt: before }, { name: 'quiet' }]);
    // Entered an hour ago (the imported times are after entry), and past the late-commit re-check, so only an announced
    // change brings an enrollment up.
    await ctx.stack.db.query(`UPDATE enrollments SET entered_at = entered_at - interval '1 hour' WHERE sop_id = $1`, [j.sop.id]);
    await settle(j.sop.id);
    const cursor = await outboxEnd(ctx.stack.db);
    const recent = new Date(Date.now() - 10 * 60_000).toISOString();
    const upload = (csv: string) => j.t.admin.request('POST', '/api/imports/contacts', csv, { 'content-type': 'text/csv' });
    // An imported order for 'buyer'; 'same' is imported with the order time it already had (no change, no event).
    const orders = await upload(`external_id,order_count,last_order_at\nbuyer,1,${recent}\nsame,0,${before}\nquiet,0,\n`);
    expect(orders.body).toMatchObject({ status: 'completed', importedRows: 3, errorRows: 0 });
    const replies = await upload(`external_id,last_responded_at\nreplier,${recent}\n`);
    expect(replies.body).toMatchObject({ status: 'completed', importedRows: 1 });
    const tagged = await upload(`external_id,tags\ntagged,Product A\n`);
    expect(tagged.body).toMatchObject({ status: 'completed', importedRows: 1, errorRows: 0 });

    const announced = await ctx.stack.db.query(
      `SELECT payload FROM domain_events WHERE tenant_id = $1 AND type = 'contact.updated' AND id > $2 ORDER BY id`, [j.tenantId, cursor]);
    expect(announced.map((r: { payload: unknown }) => r.payload)).toEqual([
      { contactIds: [j.ids.buyer], fields: ['lastOrderAt'], importId: orders.body.id },
      { contactIds: [j.ids.replier], fields: ['lastRespondedAt'], importId: replies.body.id },
    ]);
    // The wake relay wakes the journey's dispatcher for them, and its exit pass closes all three.
    expect((await journeysToWake(ctx.stack.db, cursor)).sopIds).toContain(j.sop.id);
    expect(await applyExits(ctx.stack.db, j.sop.id)).toBe(3);
    expect(await j.status()).toEqual({ buyer: 'bought', replier: 'replied', tagged: 'tag added', same: 'active', quiet: 'active' });
  });
});
