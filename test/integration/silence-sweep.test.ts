import { recordPurchase, sweepSilence } from '@sop/engine';
import { ensureSilenceSweepSchedule, SILENCE_SWEEP_SCHEDULE } from '@sop/temporal';
import { silenceSweepWorkflow, type SilenceSweepInput } from '@sop/workflows';
import { Client, Connection } from '@temporalio/client';
import { testEnv } from '../support/env';
import { saveHistory } from '../support/histories';
import { withSchedule } from '../support/schedules';
import { signupTenant } from '../support/http';
import { useStack } from '../support/stack';

const DAY = 86_400_000;

describe('silence sweep: time-based rules follow the clock (real Postgres and Temporal)', () => {
  const ctx = useStack({ worker: true });

  it('enters a contact when 14 days of silence pass, without any change to the contact, once', async () => {
    const t = await signupTenant(ctx.http);
    const now = Date.now();
    const almost = (await t.admin.post('/api/contacts', { externalId: 'almost', lastContactedAt: new Date(now - 13.5 * DAY).toISOString() })).body;
    const recent = (await t.admin.post('/api/contacts', { externalId: 'recent', lastContactedAt: new Date(now - 2 * DAY).toISOString() })).body;
    const never = (await t.admin.post('/api/contacts', { externalId: 'never' })).body;
    const seg = (await t.admin.post('/api/segments', { name: 'Silent 14 days', rule: { daysSince: { field: 'lastContacted', op: 'gte', days: 14 } } })).body;
    const members = async () => (await t.admin.get(`/api/segments/${seg.id}/members`)).body.items.map((m: { id: string }) => m.id).sort();
    const open = async () => (await ctx.stack.db.query(
      `SELECT contact_id FROM segment_memberships WHERE segment_id = $1 AND exited_at IS NULL ORDER BY contact_id`, [seg.id],
    )).map((r: { contact_id: string }) => r.contact_id);
    expect(await open()).toEqual([never.id]);
    const [{ tenant_id: tenantId }] = await ctx.stack.db.query('SELECT tenant_id FROM contacts WHERE id = $1', [never.id]);

    const tomorrow = new Date(now + DAY);
    expect(await sweepSilence(ctx.stack.db, tomorrow, [tenantId])).toEqual({ tenants: 1, contacts: 1 });
    expect(await open()).toEqual([almost.id, never.id].sort());
    expect(await sweepSilence(ctx.stack.db, tomorrow, [tenantId])).toEqual({ tenants: 1, contacts: 0 });
    const [{ n }] = await ctx.stack.db.query(`SELECT count(*)::int AS n FROM domain_events WHERE tenant_id = $1 AND type = 'segment.entered'`, [tenantId]);
    expect(n).toBe(1);
    expect(await members()).not.toContain(recent.id);
  });

  it('runs silenceSweepWorkflow through the worker over the tenants it is given, and keeps one Schedule for it', async () => {
    // Two organizations, each with a time-based segment and a purchase that has just turned 30 days old. The sweep is
    // given the first only: an unscoped sweep would reach every tenant of the database, the other test files' too.
    const world = async (label: string) => {
      const t = await signupTenant(ctx.http, label);
      const contact = (await t.admin.post('/api/contacts', { externalId: `buyer-${label}` })).body;
      await t.admin.post('/api/segments', { name: 'Silent 7 days', rule: { daysSince: { field: 'lastContacted', op: 'gte', days: 7 } } });
      const [{ tenant_id: tenantId }] = await ctx.stack.db.query('SELECT tenant_id FROM contacts WHERE id = $1', [contact.id]);
      const orderedAt = new Date(Date.now() - 29 * DAY);
      expect(await ctx.stack.db.transaction((m) => recordPurchase(m, tenantId, contact.id, { orderId: 'SO-1', amount: 120, currency: 'CNY', orderedAt })))
        .toBe(true);
      await ctx.stack.db.query(`UPDATE purchases SET ordered_at = ordered_at - interval '2 days' WHERE tenant_id = $1`, [tenantId]);
      const state = async () => ({
        spend30: Number((await ctx.stack.db.query('SELECT spend_30d FROM contacts WHERE id = $1', [contact.id]))[0].spend_30d),
        swept: (await ctx.stack.db.query('SELECT 1 FROM silence_sweeps WHERE tenant_id = $1', [tenantId])).length > 0,
      });
      return { tenantId, state };
    };
    const mine = await world('Sweep Mine');
    const theirs = await world('Sweep Theirs');
    expect(await mine.state()).toEqual({ spend30: 120, swept: false });

    const connection = await Connection.connect({ address: testEnv('TEMPORAL_ADDRESS') });
    try {
      const client = new Client({ connection });
      const workflowId = `sweep-${ctx.stack.taskQueue}`;
      const input: SilenceSweepInput = { tenantIds: [mine.tenantId] };
      const result = await client.workflow.execute(silenceSweepWorkflow, { taskQueue: ctx.stack.taskQueue, workflowId, args: [input] });
      expect(result).toEqual({ tenants: 1, contacts: 0, agedSpend: 1 });
      expect(await mine.state()).toEqual({ spend30: 0, swept: true });
      expect(await theirs.state()).toEqual({ spend30: 120, swept: false });
      if (process.env.RECORD_HISTORIES) saveHistory('silenceSweepWorkflow-scoped', await client.workflow.getHandle(workflowId).fetchHistory());

      await withSchedule(client, SILENCE_SWEEP_SCHEDULE, async () => {
        expect(await ensureSilenceSweepSchedule(client, ctx.stack.taskQueue, '1h')).toBe('created');
        expect(await ensureSilenceSweepSchedule(client, ctx.stack.taskQueue, '1h')).toBe('exists');
        const schedule = await client.schedule.getHandle(SILENCE_SWEEP_SCHEDULE).describe();
        // the production Schedule gives its workflow no input: every tenant
        expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'silenceSweepWorkflow', args: [] });
        expect(schedule.spec.intervals?.[0].every).toBe(3_600_000);
      });
    } finally {
      await connection.close();
    }
  });
});
