import { enrollEntrants, materializeDuePage } from '@sop/engine';
import { zoneWithOpenWindow } from '../support/clock';
import { createTagSystem } from '../support/fixtures';
import { addUser, signupTenant } from '../support/http';
import { useStack } from '../support/stack';

const DAY = 86_400_000;
/**
 * The SOP's and the customers' zone: one where the steps' all-day window (00:00-23:59) is open now and for hours yet
 * (test/support/clock.ts). In a fixed zone, a run in its last minute (23:59 UTC, when this was 'UTC') made today's
 * tasks tomorrow, not as the forecast of today said, and a run across its midnight split the day.
 */
const ZONE = zoneWithOpenWindow();

/**
 * Round robin gives each task to the team member with the fewest tasks that day (tasks of every SOP), and the
 * SOP forecast, which uses the same pick, says beforehand exactly who gets how many tasks on which day.
 */
describe('SOP round robin: fair, and as forecast (real Postgres)', () => {
  const ctx = useStack();

  const journey = (segmentId: string, executor: unknown, offsets: number[]) => ({
    kind: 'journey', timezone: ZONE, audience: { segmentId }, entry: { includeExistingMembers: true },
    steps: offsets.map((offsetDays) => ({ name: `Day ${offsetDays}`, offsetDays, window: { start: '00:00', end: '23:59' },
      channel: 'wecom_chat', content: { template: 'Hi {{ contact.name }}' }, executor })),
    policies: { businessDaysOnly: false },
  });

  it('spreads tasks evenly over the team, counting load the members already have, as the forecast said', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const team = (await t.admin.post('/api/teams', { name: 'Round robin' })).body;
    const members: string[] = [];
    for (let i = 0; i < 3; i++) members.push((await addUser(t, ctx.http, 'employee', { teamId: team.id })).id);
    const owner = await addUser(t, ctx.http, 'employee');
    const contact = async (externalId: string, tag: string) => (await t.admin.post('/api/contacts',
      { externalId, name: externalId, ownerId: owner.id, timezone: ZONE, tags: [tag] })).body.id;
    for (let i = 0; i < 12; i++) await contact(`rr${i}`, tags.intentHigh.id);
    for (let i = 0; i < 3; i++) await contact(`busy${i}`, tags.productA.id);
    const segment = async (name: string, tag: string) => (await t.admin.post('/api/segments', { name, rule: { tag } })).body.id;
    const activate = async (name: string, definition: unknown) => {
      const sop = (await t.admin.post('/api/sops', { name, definition })).body;
      expect((await t.admin.post(`/api/sops/${sop.id}/activate`)).status).toBe(200);
      return sop.id as string;
    };

    // Other load: one member already has three tasks today.
    const now = new Date();
    const busy = await activate('Busy', journey(await segment('Busy', tags.productA.id), { rule: 'user', userId: members[0] }, [0]));
    await enrollEntrants(ctx.stack.db, busy, now);
    expect(await materializeDuePage(ctx.stack.db, busy, now, 100)).toMatchObject({ tasks: 3 });

    const sop = await activate('Round robin', journey(await segment('RR', tags.intentHigh.id), { rule: 'roundRobin', teamId: team.id }, [0, 1]));
    const forecast = (await t.admin.get(`/api/sops/${sop}/forecast`)).body;
    const expected = Object.fromEntries(forecast.days.map((d: { date: string; executorId: string; tasks: number }) => [`${d.date}|${d.executorId}`, d.tasks]));

    // The real dispatch, in pages of five (each counts the tasks the pages before committed): today, then tomorrow's step.
    await enrollEntrants(ctx.stack.db, sop, now);
    for (const at of [now, new Date(now.getTime() + 2 * DAY)]) {
      for (let more = true; more;) more = (await materializeDuePage(ctx.stack.db, sop, at, 5)).more;
    }
    const rows: { day: string; executor_id: string; n: number }[] = await ctx.stack.db.query(
      `SELECT to_char(due_at AT TIME ZONE $2, 'YYYY-MM-DD') AS day, executor_id, count(*)::int AS n FROM tasks WHERE sop_id = $1 GROUP BY 1, 2`,
      [sop, ZONE]);
    const actual = Object.fromEntries(rows.map((r) => [`${r.day}|${r.executor_id}`, r.n]));
    expect(actual).toEqual(expected);

    const today = forecast.from;
    const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + DAY).toISOString().slice(0, 10);
    const on = (day: string) => members.map((id) => actual[`${day}|${id}`] ?? 0);
    // Today 15 tasks in all (3 already the first member's): five each. Tomorrow, no other load: four each.
    expect(on(today)).toEqual([2, 5, 5]);
    expect(on(tomorrow)).toEqual([4, 4, 4]);
  });

  it('keeps the spread within one task when the team does not divide the tasks evenly', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const team = (await t.admin.post('/api/teams', { name: 'Round robin' })).body;
    const members: string[] = [];
    for (let i = 0; i < 4; i++) members.push((await addUser(t, ctx.http, 'employee', { teamId: team.id })).id);
    for (let i = 0; i < 10; i++) await t.admin.post('/api/contacts', { externalId: `c${i}`, name: `c${i}`, timezone: ZONE, tags: [tags.intentHigh.id] });
    const segment = (await t.admin.post('/api/segments', { name: 'RR', rule: { tag: tags.intentHigh.id } })).body.id;
    const sop = (await t.admin.post('/api/sops', { name: 'RR', definition: journey(segment, { rule: 'roundRobin', teamId: team.id }, [0]) })).body.id;
    expect((await t.admin.post(`/api/sops/${sop}/activate`)).status).toBe(200);
    const forecast = (await t.admin.get(`/api/sops/${sop}/forecast`)).body;
    const now = new Date();
    await enrollEntrants(ctx.stack.db, sop, now);
    for (let more = true; more;) more = (await materializeDuePage(ctx.stack.db, sop, now, 3)).more;
    const rows: { executor_id: string; n: number }[] = await ctx.stack.db.query(
      `SELECT executor_id, count(*)::int AS n FROM tasks WHERE sop_id = $1 GROUP BY 1 ORDER BY 1`, [sop]);
    const counts = members.map((id) => rows.find((r) => r.executor_id === id)?.n ?? 0);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(10);
    expect(Object.fromEntries(rows.map((r) => [r.executor_id, r.n])))
      .toEqual(Object.fromEntries(forecast.days.map((d: { executorId: string; tasks: number }) => [d.executorId, d.tasks])));
  });
});
