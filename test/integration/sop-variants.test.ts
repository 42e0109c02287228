import { materializeDuePage, materializeOccurrencePage } from '@sop/engine';
import { zoneWithOpenWindow } from '../support/clock';
import { addUser, signupTenant } from '../support/http';
import { waitUntil } from '../support/poll';
import { useStack } from '../support/stack';

/**
 * A/B variants on real tasks (issue 14): SOPs with three variants weighted 70/20/10 run over 3,000 contacts through
 * the engine's own path (activation through the API, the dispatcher and broadcast workflows on the worker, the
 * pages on Postgres). The variants on the created tasks follow the weights, and re-running pages (cut differently,
 * after a page's work was lost) gives every contact the variant it had.
 */
describe('A/B variants on real tasks (real Postgres, real Temporal, worker)', () => {
  const ctx = useStack({ worker: true });
  const db = () => ctx.stack.db;

  const CONTACTS = 3000;
  const WEIGHTS = { A: 70, B: 20, C: 10 };
  const content = {
    template: 'Hi {{ contact.name }}',
    variants: Object.entries(WEIGHTS).map(([name, weight]) => ({ name, weight, template: `${name}: Hi {{ contact.name }}` })),
  };
  const step = { name: 'Hello', channel: 'wecom_chat', content, executor: { rule: 'contactOwner' } };

  /** Each variant's share within four standard deviations of its weight (a binomial count): fails about once in 10,000 runs. */
  function expectSplit(counts: Record<string, number>) {
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    expect(total).toBe(CONTACTS);
    expect(Object.keys(counts).sort()).toEqual(Object.keys(WEIGHTS));
    for (const [name, weight] of Object.entries(WEIGHTS)) {
      const p = weight / 100;
      const sd = Math.sqrt(total * p * (1 - p));
      expect({ name, off: Math.abs(counts[name] - total * p) <= 4 * sd, counts }).toEqual({ name, off: true, counts });
    }
  }
  const variants = async (sopId: string): Promise<Map<string, string>> => new Map((await db().query(
    `SELECT contact_id, variant FROM tasks WHERE sop_id = $1`, [sopId])).map((r: { contact_id: string; variant: string }) => [r.contact_id, r.variant]));
  const split = (byContact: Map<string, string>) => {
    const counts: Record<string, number> = {};
    for (const v of byContact.values()) counts[v] = (counts[v] ?? 0) + 1;
    return counts;
  };

  /**
   * `timezone`: the contacts' zone. The journey passes one where its all-day window (00:00-23:59) is open now and for
   * hours yet (test/support/clock.ts), so the dispatcher makes the day-0 tasks at once whatever the hour of the run.
   */
  async function world(timezone = 'Asia/Shanghai') {
    const t = await signupTenant(ctx.http);
    const owners = [];
    for (let i = 0; i < 4; i++) owners.push((await addUser(t, ctx.http, 'employee')).id);
    const [{ tenant_id: tenantId }] = await db().query(`SELECT tenant_id FROM users WHERE id = $1`, [owners[0]]);
    // Seeded in SQL (3,000 through the API would take minutes); the segment, made after, takes them all in.
    await db().query(
      `INSERT INTO contacts (tenant_id, external_id, name, owner_id, timezone)
       SELECT $1, 'c' || g, '客户' || g, ($2::uuid[])[1 + g % 4], $4 FROM generate_series(1, $3::int) g`, [tenantId, owners, CONTACTS, timezone]);
    const segment = (await t.admin.post('/api/segments', { name: 'Everyone', rule: { metric: { name: 'orderCount', op: 'gte', value: 0 } } })).body;
    const activate = async (name: string, definition: unknown): Promise<string> => {
      const res = await t.admin.post('/api/sops', { name, definition });
      expect(res.status).toBe(201);
      expect((await t.admin.post(`/api/sops/${res.body.id}/activate`)).status).toBe(200);
      return res.body.id;
    };
    return { segment, activate };
  }
  const taskCount = async (sopId: string): Promise<number> => (await db().query(`SELECT count(*)::int AS n FROM tasks WHERE sop_id = $1`, [sopId]))[0].n;

  it('splits a journey\'s tasks by the weights, and a re-run page keeps every contact\'s variant', async () => {
    const { segment, activate } = await world(zoneWithOpenWindow());
    const sop = await activate('Welcome A/B', {
      kind: 'journey', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
      steps: [{ ...step, offsetDays: 0, window: { start: '00:00', end: '23:59' } }], policies: { businessDaysOnly: false },
    });
    // The SOP's dispatcher (on the worker) enrolls everyone and makes the tasks.
    await waitUntil(() => taskCount(sop), (n) => n === CONTACTS, 'the dispatcher\'s 3,000 tasks', 90_000, 500);
    const first = await variants(sop);
    expectSplit(split(first));
    const [{ n: rendered }] = await db().query(
      `SELECT count(*)::int AS n FROM tasks WHERE sop_id = $1 AND content = variant || ': Hi ' || (SELECT name FROM contacts WHERE id = contact_id)`, [sop]);
    expect(rendered).toBe(CONTACTS); // each task carries its own variant's text

    // A page whose work was lost (its transaction rolled back) runs again, cut into other pages: the same variants.
    await db().query(`DELETE FROM tasks WHERE sop_id = $1`, [sop]);
    await db().query(
      `UPDATE enrollments SET next_step = 0, next_due_at = now() - interval '1 minute', status = 'active', closed_at = NULL, close_reason = NULL
        WHERE sop_id = $1`, [sop]);
    const now = new Date();
    while ((await materializeDuePage(db(), sop, now, 700)).more);
    expect(await materializeDuePage(db(), sop, now, 700)).toMatchObject({ tasks: 0 }); // and again: nothing more
    expect(await taskCount(sop)).toBe(CONTACTS);
    expect(await variants(sop)).toEqual(first);
  }, 180_000);

  it('splits a broadcast\'s and a recurring SOP\'s tasks by the weights; a contact keeps its variant across pages and occurrences', async () => {
    const { segment, activate } = await world();
    const broadcast = await activate('Announcement A/B', {
      kind: 'broadcast', audience: { segmentId: segment.id }, sendAt: new Date(Date.now() + 8000).toISOString(),
      steps: [{ ...step, dueWithinMinutes: 240 }], policies: { businessDaysOnly: false },
    });
    // The broadcast's workflow (on the worker) waits for sendAt, takes the snapshot and makes the tasks page by page.
    await waitUntil(() => taskCount(broadcast), (n) => n === CONTACTS, 'the broadcast\'s 3,000 tasks', 90_000, 500);
    const sent = await variants(broadcast);
    expectSplit(split(sent));

    // A recurring SOP: two occurrences, each cut into different pages, the second page of the first run twice.
    const recurring = await activate('Weekly A/B', {
      kind: 'recurring', timezone: 'Asia/Shanghai', audience: { segmentId: segment.id }, schedule: { rrule: 'FREQ=DAILY;BYHOUR=10;BYMINUTE=0' },
      steps: [{ ...step, dueWithinMinutes: 60 }], policies: { businessDaysOnly: false },
    });
    const [{ at }] = await db().query(
      `SELECT (date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') + interval '2 days 10 hours') AT TIME ZONE 'Asia/Shanghai' AS at`);
    const occurrences = [at as Date, new Date((at as Date).getTime() + 86_400_000)];
    for (const [i, occurrence] of occurrences.entries()) {
      const size = i === 0 ? 1000 : 700;
      for (let after: string | null = null, page = 0; ; page++) {
        const res = await materializeOccurrencePage(db(), { sopId: recurring, occurrence, after, limit: size });
        if (i === 0 && page === 1) expect(await materializeOccurrencePage(db(), { sopId: recurring, occurrence, after, limit: size })).toMatchObject({ tasks: 0 });
        if (!res.more) break;
        after = res.after;
      }
    }
    const byOccurrence: Map<string, string>[] = [];
    for (const occurrence of occurrences) {
      byOccurrence.push(new Map((await db().query(`SELECT contact_id, variant FROM tasks WHERE sop_id = $1 AND occurrence = $2`, [recurring, occurrence]))
        .map((r: { contact_id: string; variant: string }) => [r.contact_id, r.variant])));
    }
    expect(byOccurrence[0].size).toBe(CONTACTS);
    expectSplit(split(byOccurrence[0]));
    expect(byOccurrence[1]).toEqual(byOccurrence[0]); // the same contact, the same variant, at every occurrence
  }, 180_000);
});
