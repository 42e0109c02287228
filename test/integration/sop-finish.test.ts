import { enrollEntrants, journeysToWake, materializeDuePage, outboxEnd } from '@sop/engine';
import { zoneWithOpenWindow } from '../support/clock';
import { createTagSystem } from '../support/fixtures';
import { addUser, signupTenant } from '../support/http';
import { heldUp, inSession } from '../support/sessions';
import { useStack } from '../support/stack';

describe('SOP on-finish actions (real Postgres)', () => {
  const ctx = useStack();

  /**
   * A welcome journey (one step, due now) whose finish runs `onFinish` (tags given by key) and hands over to a
   * follow-up journey on the Product B segment, both active, and one contact in the welcome's segment.
   */
  async function world(onFinish: (tags: Record<string, { id: string }>) => Record<string, unknown>, contactTags: string[] = []) {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    const highIntent = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    const productB = (await t.admin.post('/api/segments', { name: 'Product B', rule: { tag: tags.productB.id } })).body;
    const step = { name: 'Call', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'phone_call',
      content: { template: 'Call {{ contact.name }}' }, executor: { rule: 'contactOwner' } };
    const followUp = (await t.admin.post('/api/sops', { name: 'Product B follow-up', definition: {
      kind: 'journey', audience: { segmentId: productB.id }, steps: [step], policies: { businessDaysOnly: false },
    } })).body;
    const welcome = (await t.admin.post('/api/sops', { name: 'Welcome', definition: {
      kind: 'journey', audience: { segmentId: highIntent.id }, entry: { includeExistingMembers: true }, steps: [step],
      policies: { businessDaysOnly: false, onFinish: { ...onFinish(tags), handoverSopId: followUp.id } },
    } })).body;
    for (const sop of [followUp, welcome]) expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
    const contact = (await t.admin.post('/api/contacts', {
      externalId: 'zhang', name: '张伟', ownerId: owner.id, tags: [tags.intentHigh.id, ...contactTags.map((k) => (tags as Record<string, { id: string }>)[k].id)],
      timezone: zoneWithOpenWindow(), // in a zone where the all-day window (00:00-23:59) is open for hours yet (test/support/clock.ts)
    })).body;
    return { t, tags, productB, followUp, welcome, contact };
  }

  it('tags the contact as the SOP and hands it over to another journey, once', async () => {
    const { t, productB, followUp, welcome, contact } = await world(
      (tags) => ({ addTagIds: [tags.productB.id], removeTagIds: [tags.productA.id] }), ['productA']);
    const cursor = await outboxEnd(ctx.stack.db);

    const now = new Date();
    await enrollEntrants(ctx.stack.db, welcome.id, now);
    for (const run of [1, 2]) {
      expect(await materializeDuePage(ctx.stack.db, welcome.id, now, 100)).toMatchObject({ tasks: run === 1 ? 1 : 0 });
    }
    const events = await ctx.stack.db.query(
      `SELECT t.name, e.action, e.actor_type, e.reason FROM tag_events e JOIN tags t ON t.id = e.tag_id
        WHERE e.contact_id = $1 AND e.actor_type = 'sop' ORDER BY t.name`, [contact.id]);
    expect(events).toEqual([
      { name: 'Product A', action: 'removed', actor_type: 'sop', reason: 'finished SOP "Welcome"' },
      { name: 'Product B', action: 'added', actor_type: 'sop', reason: 'finished SOP "Welcome"' },
    ]);
    // The new tag moved the contact into the Product B segment in the same transaction.
    const [{ n }] = await ctx.stack.db.query(
      `SELECT count(*)::int AS n FROM segment_memberships WHERE segment_id = $1 AND contact_id = $2 AND exited_at IS NULL`, [productB.id, contact.id]);
    expect(n).toBe(1);

    const [welcomeEnrollment] = await ctx.stack.db.query(`SELECT id, status FROM enrollments WHERE sop_id = $1`, [welcome.id]);
    expect(welcomeEnrollment.status).toBe('completed');
    const handed = await ctx.stack.db.query(`SELECT contact_id, entry_no, status FROM enrollments WHERE sop_id = $1`, [followUp.id]);
    expect(handed).toEqual([{ contact_id: contact.id, entry_no: String(-welcomeEnrollment.id), status: 'active' }]);
    expect((await journeysToWake(ctx.stack.db, cursor)).sopIds).toContain(followUp.id);

    // A reply from an enrolled contact wakes its journeys too (their exit conditions may now hold).
    const beforeReply = await outboxEnd(ctx.stack.db);
    await t.admin.patch(`/api/contacts/${contact.id}`, { lastRespondedAt: new Date().toISOString() });
    // Other suites write to the same outbox meanwhile: look only at this tenant's two SOPs.
    const woken = (await journeysToWake(ctx.stack.db, beforeReply)).sopIds;
    expect(woken.filter((id) => id === followUp.id || id === welcome.id)).toEqual([followUp.id]);

    // The follow-up's own enrollment pass finds the contact already there: still one enrollment.
    await enrollEntrants(ctx.stack.db, followUp.id, now);
    const [{ count }] = await ctx.stack.db.query(`SELECT count(*)::int AS count FROM enrollments WHERE sop_id = $1`, [followUp.id]);
    expect(count).toBe(1);
  });

  it('hands over to the version published while the hand-over waited for the journey', async () => {
    const { followUp, welcome, contact } = await world(() => ({}));
    const now = new Date();
    expect(await enrollEntrants(ctx.stack.db, welcome.id, now)).toBe(1);
    // A second version of the follow-up is being published (its row held) while the welcome's last page hands over.
    const published = await inSession(ctx.stack.db, async (sql, pid) => {
      await sql(`SELECT 1 FROM sops WHERE id = $1 FOR UPDATE`, [followUp.id]);
      const [version] = await sql(`INSERT INTO sop_versions (tenant_id, sop_id, version, definition, tag_ids, segment_ids)
        SELECT tenant_id, sop_id, version + 1, definition, tag_ids, segment_ids FROM sop_versions WHERE sop_id = $1
         ORDER BY version DESC LIMIT 1 RETURNING id`, [followUp.id]);
      await sql(`UPDATE sops SET current_version = current_version + 1 WHERE id = $1`, [followUp.id]);
      const page = materializeDuePage(ctx.stack.db, welcome.id, now, 100);
      await heldUp(ctx.stack.db, pid, 'the hand-over');
      await sql('COMMIT');
      expect(await page).toMatchObject({ tasks: 1, completed: 1 });
      return version.id;
    });
    const handed = await ctx.stack.db.query(`SELECT contact_id, sop_version_id, status FROM enrollments WHERE sop_id = $1`, [followUp.id]);
    expect(handed).toEqual([{ contact_id: contact.id, sop_version_id: published, status: 'active' }]);
    // A journey without exit conditions gets no exit check for it.
    const [{ n }] = await ctx.stack.db.query(`SELECT count(*)::int AS n FROM sop_exit_checks WHERE sop_id = $1`, [followUp.id]);
    expect(n).toBe(0);
  });
});
