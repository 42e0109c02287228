import { workflowIds } from '@sop/temporal';
import { Client, Connection } from '@temporalio/client';
import { DateTime } from 'luxon';
import { testEnv } from '../support/env';
import { createTagSystem } from '../support/fixtures';
import { addUser, signupTenant } from '../support/http';
import { useStack } from '../support/stack';

/**
 * A recurring SOP fired by its real Temporal Schedule (created by activation, fired by the dev server at the
 * rule's time), not a hand-started occurrence: the Schedule's action must start sopOccurrenceWorkflow with
 * the SOP's id, and that firing must create the tasks for the occurrence the Schedule stamped. The step's
 * executor is a named user (`executor: { rule: 'user', userId }`), not the contacts' owner.
 */
describe('Recurring SOP on its Temporal Schedule (real Postgres, real Temporal, worker)', () => {
  const ctx = useStack({ worker: true });

  it('fires at the rule\'s minute and creates the tasks for the named user', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    const named = await addUser(t, ctx.http, 'employee');
    const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    for (const i of [0, 1, 2]) {
      await t.admin.post('/api/contacts', { externalId: `s${i}`, name: `客户${i}`, ownerId: owner.id, tags: [tags.intentHigh.id], timezone: 'Asia/Shanghai' });
    }
    // The next whole minute at least 70 s away: time to activate before it.
    const fireAt = DateTime.now().setZone('Asia/Shanghai').plus({ seconds: 70 }).startOf('minute').plus({ minutes: 1 });
    const created = await t.admin.post('/api/sops', { name: 'Every day at this minute', definition: {
      kind: 'recurring', timezone: 'Asia/Shanghai', audience: { segmentId: segment.id },
      schedule: { rrule: `FREQ=DAILY;BYHOUR=${fireAt.hour};BYMINUTE=${fireAt.minute}` },
      steps: [{ name: 'Check in', dueWithinMinutes: 60, channel: 'wecom_chat', content: { template: 'Hi {{ contact.name }}' },
        executor: { rule: 'user', userId: named.id } }],
      policies: { businessDaysOnly: false },
    } });
    expect(created.status).toBe(201);
    const sopId = created.body.id;
    expect((await t.admin.post(`/api/sops/${sopId}/activate`)).status).toBe(200);

    const connection = await Connection.connect({ address: testEnv('TEMPORAL_ADDRESS') });
    const client = new Client({ connection });
    const schedule = client.schedule.getHandle(workflowIds.sopSchedule(sopId));
    try {
      const described = await schedule.describe();
      expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'sopOccurrenceWorkflow', args: [{ sopId }], taskQueue: ctx.stack.taskQueue });

      // Wait for the dev server to fire it (the minute, plus the worker's pick-up).
      let firing: { workflowId: string; scheduledAt: Date } | undefined;
      // A describe that times out (the shared dev server busy with the fault tests' dispatches) is asked again.
      for (const until = Date.now() + 200_000; !firing && Date.now() < until; await new Promise((r) => setTimeout(r, 2000))) {
        const described = await schedule.describe().catch((err: Error) => {
          if (!/DEADLINE_EXCEEDED|UNAVAILABLE/.test(`${err.message} ${(err as { cause?: Error }).cause?.message ?? ''}`)) throw err;
          return null;
        });
        const action = described?.info.recentActions[0];
        if (action) firing = { workflowId: action.action.workflow.workflowId, scheduledAt: action.scheduledAt };
      }
      expect(firing).toBeDefined();
      expect(firing!.scheduledAt.getTime()).toBe(fireAt.toMillis());
      expect(firing!.workflowId.startsWith(workflowIds.sopOccurrence(sopId))).toBe(true);
      const result = await client.workflow.getHandle(firing!.workflowId).result();
      expect(result).toEqual({ occurrence: fireAt.toMillis(), tasks: 3 });

      const tasks = await ctx.stack.db.query(`SELECT occurrence, executor_id, due_at, status, content FROM tasks WHERE sop_id = $1`, [sopId]);
      expect(tasks).toHaveLength(3);
      for (const task of tasks) {
        expect(task).toMatchObject({ occurrence: fireAt.toJSDate(), executor_id: named.id, due_at: fireAt.toJSDate(), status: 'pending' });
      }
    } finally {
      await schedule.delete().catch(() => undefined);
      await connection.close();
    }
  }, 300_000);
});
