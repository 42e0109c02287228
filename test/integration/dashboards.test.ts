import { compareRollups, enrollEntrants, materializeDuePage, materializeOccurrencePage, planReminders, snapshotBroadcast } from '@sop/engine';
import { zoneWithOpenWindow } from '../support/clock';
import { eventKey, sendEvents } from '../support/events';
import { addUser, signupTenant } from '../support/http';
import { useStack } from '../support/stack';

const HOUR = 3600_000;
const ok = <T extends { status: number; body: unknown }>(res: T): T => {
  if (res.status >= 300) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
  return res;
};

/** Issue 13 over HTTP: who sees what, the measures, cuts, variant comparison and the winner action, exports. */
describe('dashboards API (real Postgres)', () => {
  const ctx = useStack();
  const db = () => ctx.stack.db;

  /** Teams A (e1, e2) and B (e3) with managers; a journey with variants A/B: e1 10 tasks, e2 6, e3 4. */
  async function world() {
    const t = await signupTenant(ctx.http);
    const teamA = (await t.admin.post('/api/teams', { name: 'Shanghai 上海' })).body;
    const teamB = (await t.admin.post('/api/teams', { name: 'Beijing 北京' })).body;
    const mA = await addUser(t, ctx.http, 'manager', { teamId: teamA.id });
    const mB = await addUser(t, ctx.http, 'manager', { teamId: teamB.id });
    await t.admin.patch(`/api/teams/${teamA.id}`, { managerId: mA.id });
    await t.admin.patch(`/api/teams/${teamB.id}`, { managerId: mB.id });
    const e1 = await addUser(t, ctx.http, 'employee', { teamId: teamA.id });
    const e2 = await addUser(t, ctx.http, 'employee', { teamId: teamA.id });
    const e3 = await addUser(t, ctx.http, 'employee', { teamId: teamB.id });
    const ops = await addUser(t, ctx.http, 'ops');
    const [{ tenant_id: tenantId }] = await db().query(`SELECT tenant_id FROM users WHERE id = $1`, [e1.id]);
    await db().query(
      `INSERT INTO contacts (tenant_id, external_id, name, owner_id, timezone)
       SELECT $1, 'c' || g, '客户' || g, CASE WHEN g <= 10 THEN $2::uuid WHEN g <= 16 THEN $3::uuid ELSE $4::uuid END, $5 FROM generate_series(1, 20) g`,
      [tenantId, e1.id, e2.id, e3.id, zoneWithOpenWindow()]); // in a zone where the step's all-day window (00:00-23:59) is open for hours yet (test/support/clock.ts)
    const everyone = (await t.admin.post('/api/segments', { name: 'Everyone', rule: { metric: { name: 'orderCount', op: 'gte', value: 0 } } })).body;
    const sop = ok(await ops.client.post('/api/sops', { name: 'Welcome 欢迎', definition: {
      kind: 'journey', audience: { segmentId: everyone.id }, entry: { includeExistingMembers: true },
      steps: [{ name: 'Hello 问候', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat', executor: { rule: 'contactOwner' },
        content: { template: '您好', variants: [{ name: 'A', weight: 1, template: 'A 您好' }, { name: 'B', weight: 1, template: 'B 您好' }] } }],
      policies: { businessDaysOnly: false, exitOn: [] },
    } })).body;
    ok(await ops.client.post(`/api/sops/${sop.id}/activate`));
    await enrollEntrants(db(), sop.id, new Date());
    while ((await materializeDuePage(db(), sop.id, new Date(), 1000)).more);
    // odd contacts see A, even ones B (the engine's pick is a hash of the enrollment: not what this test is about)
    await db().query(
      `UPDATE tasks t SET variant = CASE WHEN substr(c.external_id, 2)::int % 2 = 1 THEN 'A' ELSE 'B' END FROM contacts c
        WHERE c.id = t.contact_id AND t.tenant_id = $1`, [tenantId]);
    const taskOf = async (contact: string) => (await db().query(
      `SELECT t.id::text AS id, t.variant FROM tasks t JOIN contacts c ON c.id = t.contact_id WHERE c.tenant_id = $1 AND c.external_id = $2`,
      [tenantId, contact]))[0] as { id: string; variant: string };
    return { t, tenantId, teamA, teamB, mA, mB, e1, e2, e3, ops, sop, taskOf };
  }

  it('answers managers for their teams, employees for their week, ops for SOPs and variants; exports in both languages', async () => {
    const w = await world();
    // e1 completes c1..c4 (c1's outcome reports a reply); c5's window closed an hour ago: overdue; a purchase by c2
    for (const [c, outcome] of [['c1', 'replied'], ['c2', 'sent'], ['c3', 'sent'], ['c4', 'sent']]) {
      ok(await w.e1.client.post(`/api/inbox/tasks/${(await w.taskOf(c)).id}/complete`, { outcome }));
    }
    const key = await eventKey(w.t);
    ok(await sendEvents(ctx.http, key, { id: 'p2', type: 'purchase', externalId: 'c2', data: { orderId: 'SO-2', amount: 88, currency: 'CNY' } }));
    const now = Date.now();
    await db().query(`UPDATE tasks SET due_at = $2, due_until = $3 WHERE id = $1`, [(await w.taskOf('c5')).id, new Date(now - 3 * HOUR), new Date(now - HOUR)]);
    expect(await compareRollups(db(), w.tenantId)).toEqual([]);

    // the manager's dashboard: their team only, with the previous period and the change
    const teams = ok(await w.mA.client.get('/api/dashboards/teams')).body;
    expect(teams.teams.map((x: { teamName: string }) => x.teamName)).toEqual(['Shanghai 上海']);
    expect(teams.teams[0]).toMatchObject({ members: 3, current: { created: 16, done: 4, overdueNow: 1, closed: 5, completionRate: 0.8, onTimeRate: 1,
      responded: 2, responseRate: 0.5, converted: 1, purchases: 1, revenue: 88 }, previous: { created: 0, completionRate: null } });
    expect(teams.change).toMatchObject({ completionRate: null, done: 4, overdueNow: null });
    expect(teams.trend).toHaveLength(30);
    expect(teams.trend.at(-1).measures.done + teams.trend.at(-2).measures.done).toBe(4); // today (or yesterday, near midnight)
    expect((await w.mA.client.get(`/api/dashboards/teams?teamId=${w.teamB.id}`)).body.code).toBe('TEAM_NOT_MANAGED');
    expect((await w.e1.client.get('/api/dashboards/teams')).status).toBe(403);
    const weekly = ok(await w.mA.client.get('/api/dashboards/teams?granularity=week&from=2026-01-01&to=2026-03-31')).body;
    expect(weekly.trend.every((p: { period: string }) => new Date(`${p.period}T00:00:00Z`).getUTCDay() === 1)).toBe(true);

    // employees table: sorted by overdue, drills down to the inbox's overdue list
    const employees = ok(await w.mA.client.get('/api/dashboards/employees')).body.items;
    expect(employees.map((e: { userId: string }) => e.userId)).toEqual(expect.arrayContaining([w.e1.id, w.e2.id, w.mA.id]));
    expect(employees).toHaveLength(3);
    expect(employees[0]).toMatchObject({ userId: w.e1.id, overdueNow: 1, done: 4, created: 10 });
    const byName = ok(await w.mA.client.get('/api/dashboards/employees?sort=done&order=asc')).body.items;
    expect(byName.at(-1).userId).toBe(w.e1.id);
    const drill = ok(await w.mA.client.get(`/api/inbox/tasks?list=overdue&executorId=${w.e1.id}`)).body.items;
    expect(drill.map((x: { id: string }) => x.id)).toEqual([(await w.taskOf('c5')).id]);
    const all = ok(await w.ops.client.get('/api/dashboards/employees')).body.items;
    expect(all.map((e: { userId: string }) => e.userId)).toEqual(expect.arrayContaining([w.e1.id, w.e2.id, w.e3.id]));

    // an employee's own week
    const week = ok(await w.e1.client.get('/api/dashboards/my-week')).body;
    expect(week.days).toHaveLength(7);
    expect(week.current).toMatchObject({ done: 4, responded: 2, onTimeRate: 1 });
    expect(week.days.reduce((s: number, d: { done: number }) => s + d.done, 0)).toBe(4);
    expect(ok(await w.e3.client.get('/api/dashboards/my-week')).body.current.done).toBe(0);

    // SOP results: list, funnel, variants with intervals and the probability of being best
    expect((await w.mA.client.get('/api/dashboards/sops')).status).toBe(403);
    const sops = ok(await w.ops.client.get('/api/dashboards/sops')).body.items;
    expect(sops).toEqual([expect.objectContaining({ sopId: w.sop.id, name: 'Welcome 欢迎', created: 20, done: 4 })]);
    const result = ok(await w.ops.client.get(`/api/dashboards/sops/${w.sop.id}`)).body;
    expect(result.funnel).toEqual([{ stepIndex: 0, stepName: 'Hello 问候', entered: 20, created: 20, done: 4, responded: 2, converted: 1 }]);
    expect(result.exits).toEqual([]);
    const arms = result.variants[0].variants;
    expect(arms.map((v: { variant: string }) => v.variant)).toEqual(['A', 'B']);
    expect(arms).toEqual([
      expect.objectContaining({ variant: 'A', done: 2, responded: 1, responseRate: 0.5, converted: 0 }),
      expect.objectContaining({ variant: 'B', done: 2, responded: 1, responseRate: 0.5, converted: 1, conversionRate: 0.5 }),
    ]);
    expect(arms[1].probabilityBestConversion).toBeGreaterThan(arms[0].probabilityBestConversion);
    for (const v of arms) {
      expect(v.responseInterval[0]).toBeLessThanOrEqual(v.responseInterval[1]);
      expect(v.current).toBe(true);
    }
    expect(arms[0].probabilityBestResponse + arms[1].probabilityBestResponse).toBeCloseTo(1, 3);

    // cuts
    const byVariant = ok(await w.ops.client.get(`/api/dashboards/cuts?by=variant&sopId=${w.sop.id}`)).body.rows;
    expect(byVariant.reduce((s: number, r: { created: number }) => s + r.created, 0)).toBe(20);
    expect(byVariant[0].label).toMatch(/^Welcome 欢迎 · Hello 问候 · [AB]$/);
    const byTeam = ok(await w.ops.client.get('/api/dashboards/cuts?by=team')).body.rows;
    expect(byTeam.map((r: { label: string; created: number }) => [r.label, r.created])).toEqual([['Shanghai 上海', 16], ['Beijing 北京', 4]]);
    const byChannel = ok(await w.ops.client.get('/api/dashboards/cuts?by=channel')).body.rows;
    expect(byChannel).toEqual([expect.objectContaining({ key: 'wecom_chat', created: 20, overdueNow: 1 })]);
    // by SOP, and a SOP's weeks: read from the per-SOP-and-day rollup, the same figures as the finer one
    const bySop = ok(await w.ops.client.get('/api/dashboards/cuts?by=sop')).body.rows;
    expect(bySop).toEqual([expect.objectContaining({ key: w.sop.id, label: 'Welcome 欢迎', created: 20, done: 4, responded: 2, converted: 1, overdueNow: 1 })]);
    const sopWeeks = ok(await w.ops.client.get(`/api/dashboards/cuts?by=week&sopId=${w.sop.id}`)).body.rows;
    expect(sopWeeks.reduce((s: number, r: { done: number }) => s + r.done, 0)).toBe(4);
    expect(sopWeeks.reduce((s: number, r: { created: number }) => s + r.created, 0)).toBe(20);
    const byDay = ok(await w.mA.client.get('/api/dashboards/cuts?by=day')).body.rows;
    expect(byDay.reduce((s: number, r: { created: number }) => s + r.created, 0)).toBe(16);
    expect((await w.mA.client.get('/api/dashboards/cuts?by=sop')).body.code).toBe('CUT_NOT_ALLOWED');
    expect((await w.ops.client.get(`/api/dashboards/cuts?by=sop&teamId=${w.teamA.id}`)).body.code).toBe('CUT_FILTER_INVALID');
    const bad = await w.ops.client.get('/api/dashboards/cuts?by=team&from=2026-03-01&to=2026-02-01');
    expect([bad.status, bad.body.code, bad.body.details]).toEqual([422, 'DASHBOARD_RANGE_INVALID', [{ path: 'to', problem: 'must be on or after from' }]]);
    expect((await w.ops.client.get('/api/dashboards/cuts?by=team&from=2024-01-01&to=2026-01-01')).body.code).toBe('DASHBOARD_RANGE_INVALID');
    expect((await w.ops.client.get('/api/dashboards/cuts?by=nothing')).status).toBe(400);
    // far dates on every route that takes one: a 422 naming the field, never Postgres's date range error (500)
    for (const [path, field] of [
      ['/api/dashboards/sops?from=0001-01-05&to=0001-01-20', 'to'], ['/api/dashboards/cuts?by=day&from=2026-01-05&to=0001-01-20', 'to'],
      ['/api/dashboards/my-week?week=0001-01-03', 'week'], ['/api/dashboards/teams?to=9144-04-02', 'to'],
    ]) {
      const far = await w.ops.client.get(path);
      expect([far.status, far.body.code, far.body.details?.[0]?.path]).toEqual([422, 'DASHBOARD_RANGE_INVALID', field]);
    }

    // exports: CSV with a BOM and headers in the caller's language; .xlsx
    const zh = await w.mA.client.get('/api/dashboards/employees/export?format=csv');
    expect(zh.headers.get('content-type')).toContain('text/csv');
    expect(String(zh.body).split('\r\n')[0]).toMatch(/^员工,团队,创建任务,已完成/); // fetch's text() drops the BOM
    const raw = await fetch(`${ctx.stack.baseUrl}/api/dashboards/employees/export?format=csv`, { headers: w.mA.client.headers });
    expect([...Buffer.from(await raw.arrayBuffer()).subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    ok(await w.mA.client.put('/api/me/notification-preferences', { locale: 'en' }));
    const en = await w.mA.client.get('/api/dashboards/employees/export?format=csv');
    expect(String(en.body).split('\r\n')[0]).toMatch(/^Employee,Team,Created,Done/);
    expect(String((await w.mA.client.get('/api/dashboards/teams/export?lang=zh')).body)).toContain('团队,成员');
    const xlsx = await fetch(`${ctx.stack.baseUrl}/api/dashboards/sops/${w.sop.id}/export?format=xlsx`, { headers: w.ops.client.headers });
    expect(xlsx.headers.get('content-type')).toContain('spreadsheetml');
    const bytes = Buffer.from(await xlsx.arrayBuffer());
    expect(bytes.subarray(0, 2).toString()).toBe('PK');
    const csv = await w.ops.client.get(`/api/dashboards/sops/${w.sop.id}/export?part=variants&lang=en`);
    expect(String(csv.body).split('\r\n')).toHaveLength(4); // header, A, B and the final line break
    expect(String((await w.ops.client.get('/api/dashboards/cuts/export?by=team&format=csv&lang=zh')).body)).toContain('上海');
    expect(String((await w.ops.client.get('/api/dashboards/sops/export?lang=zh')).body)).toContain('Welcome 欢迎');

    // the winner becomes the only variant: a new version; again: nothing left to choose
    expect((await w.ops.client.post(`/api/dashboards/sops/${w.sop.id}/steps/0/winner`, { variant: 'C' })).body.code).toBe('VARIANT_NOT_FOUND');
    expect((await w.ops.client.post(`/api/dashboards/sops/${w.sop.id}/steps/3/winner`, { variant: 'B' })).body.code).toBe('STEP_NOT_FOUND');
    expect((await w.mA.client.post(`/api/dashboards/sops/${w.sop.id}/steps/0/winner`, { variant: 'B' })).status).toBe(403);
    const chosen = ok(await w.ops.client.post(`/api/dashboards/sops/${w.sop.id}/steps/0/winner`, { variant: 'B' })).body;
    expect(chosen).toMatchObject({ id: w.sop.id, currentVersion: 2, status: 'active' });
    const [version] = await db().query(`SELECT definition FROM sop_versions WHERE sop_id = $1 AND version = 2`, [w.sop.id]);
    expect(version.definition.steps[0].content).toMatchObject({ template: 'B 您好' });
    expect(version.definition.steps[0].content.variants).toBeUndefined();
    expect((await w.ops.client.post(`/api/dashboards/sops/${w.sop.id}/steps/0/winner`, { variant: 'B' })).body.code).toBe('STEP_HAS_NO_VARIANTS');
    const after = ok(await w.ops.client.get(`/api/dashboards/sops/${w.sop.id}`)).body;
    expect(after.variants[0].variants.map((v: { current: boolean }) => v.current)).toEqual([false, false]);
  });

  it('keeps the organization settings for expiry, attribution and the dashboard zone; a new window attributes again', async () => {
    const w = await world();
    expect(ok(await w.mA.client.get('/api/settings/task-results')).body).toEqual({ timezone: 'Asia/Shanghai', taskExpiryGraceHours: 24, attributionWindowDays: 7 });
    expect((await w.ops.client.put('/api/settings/task-results', { timezone: 'UTC', taskExpiryGraceHours: 48, attributionWindowDays: 3 })).status).toBe(403);
    const bad = await w.t.admin.put('/api/settings/task-results', { timezone: 'Mars/Olympus', taskExpiryGraceHours: 1000, attributionWindowDays: 3 });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { path: string }) => d.path).sort()).toEqual(['taskExpiryGraceHours', 'timezone']);
    ok(await w.e1.client.post(`/api/inbox/tasks/${(await w.taskOf('c1')).id}/complete`, { outcome: 'replied' }));
    const changed = ok(await w.t.admin.put('/api/settings/task-results', { timezone: 'America/New_York', taskExpiryGraceHours: 48, attributionWindowDays: 3 })).body;
    expect(changed).toEqual({ timezone: 'America/New_York', taskExpiryGraceHours: 48, attributionWindowDays: 3 });
    expect(await compareRollups(db(), w.tenantId)).toEqual([]);
    const teams = ok(await w.mA.client.get('/api/dashboards/teams')).body;
    expect(teams.range.zone).toBe('America/New_York');
    expect(teams.current).toMatchObject({ done: 1, responded: 1 });
  });

  it('picks variants for broadcasts (and recurring SOPs) as journeys do, and scores them', async () => {
    const w = await world();
    const everyone = (await w.t.admin.post('/api/segments', { name: 'All of them', rule: { metric: { name: 'orderCount', op: 'gte', value: 0 } } })).body;
    const broadcast = ok(await w.ops.client.post('/api/sops', { name: 'Double 11 双十一', definition: {
      kind: 'broadcast', audience: { segmentId: everyone.id }, sendAt: new Date(Date.now() + 3600_000).toISOString(),
      steps: [{ name: 'Announce 通知', dueWithinMinutes: 240, channel: 'wecom_chat', executor: { rule: 'contactOwner' },
        content: { template: '活动开始了', variants: [{ name: 'short', weight: 1, template: '{{ contact.name }}：双十一！' },
          { name: 'long', weight: 1, template: '{{ contact.name }}：双十一活动开始了，全场五折。' }] } }],
      // Every day: broadcast tasks keep to business days, and this runs now, whatever the day.
      policies: { businessDaysOnly: false },
    } })).body;
    ok(await w.ops.client.post(`/api/sops/${broadcast.id}/activate`));
    await snapshotBroadcast(db(), broadcast.id);
    const page = await materializeOccurrencePage(db(), { sopId: broadcast.id, occurrence: new Date(), after: null, limit: 100 });
    expect(page.tasks).toBe(20);
    const tasks = await db().query(`SELECT variant, content FROM tasks WHERE sop_id = $1`, [broadcast.id]);
    expect(new Set(tasks.map((x: { variant: string }) => x.variant))).toEqual(new Set(['short', 'long']));
    for (const x of tasks) expect(x.content).toMatch(x.variant === 'short' ? /：双十一！$/ : /全场五折。$/);
    const result = ok(await w.ops.client.get(`/api/dashboards/sops/${broadcast.id}`)).body;
    expect(result.variants[0].variants.map((v: { variant: string }) => v.variant)).toEqual(['long', 'short']);
    expect(result.funnel[0]).toMatchObject({ entered: 20, created: 20 });
    expect(await compareRollups(db(), w.tenantId)).toEqual([]);
  });

  it("sends each manager, at their digest time, yesterday's completion by employee of the teams they manage", async () => {
    const w = await world();
    ok(await w.t.admin.put('/api/settings/task-results', { timezone: 'UTC', taskExpiryGraceHours: 24, attributionWindowDays: 7 }));
    const now = new Date();
    const yesterday = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 1, 10));
    await db().query(`UPDATE tasks SET due_at = $2, due_until = $3 WHERE tenant_id = $1 AND executor_id = ANY($4::uuid[])`,
      [w.tenantId, yesterday, new Date(yesterday.getTime() + 2 * HOUR), [w.e1.id, w.e2.id]]);
    for (const c of ['c1', 'c2']) ok(await w.e1.client.post(`/api/inbox/tasks/${(await w.taskOf(c)).id}/complete`, { outcome: 'sent' }));
    // the manager is a member of team A and did one of its tasks yesterday: the team dashboard counts them, so does the digest
    await db().query(`UPDATE tasks SET executor_id = $2, status = 'done', finished_at = now() WHERE id = $1`, [(await w.taskOf('c10')).id, w.mA.id]);
    const hhmm = now.toISOString().slice(11, 16);
    ok(await w.mA.client.put('/api/me/notification-preferences', { timezone: 'UTC', digestTime: hhmm }));
    ok(await w.mB.client.put('/api/me/notification-preferences', { timezone: 'UTC', digestTime: hhmm }));
    expect(await planReminders(db(), now, [w.tenantId])).toMatchObject({ managerDigests: 1 });
    const [digest] = await db().query(`SELECT title, body, link, data FROM notifications WHERE user_id = $1 AND kind = 'manager_digest'`, [w.mA.id]);
    expect(digest.title).toBe('昨日团队完成：3/16 项（19%）');
    expect(digest.body.split('\n')).toEqual(['Test employee：完成 0/6（0%），未完成 6', 'Test employee：完成 2/9（22%），未完成 7', 'Test manager：完成 1/1（100%），未完成 0']);
    expect(digest.link).toBe('/dashboards/team');
    const day = yesterday.toISOString().slice(0, 10);
    expect(digest.data).toMatchObject({ day, done: 3, closed: 16 });
    expect(digest.data.employees.map((e: { userId: string }) => e.userId)).toEqual(expect.arrayContaining([w.e1.id, w.e2.id, w.mA.id]));
    // the same figures as the team dashboard it links to, for that day
    const card = ok(await w.mA.client.get(`/api/dashboards/teams?from=${day}&to=${day}`)).body.teams[0];
    expect(card).toMatchObject({ teamId: w.teamA.id, members: 3, current: { done: 3, closed: 16 } });
    expect(await db().query(`SELECT 1 FROM notifications WHERE user_id = $1 AND kind = 'manager_digest'`, [w.mB.id])).toEqual([]);
    // the in-app list shows it; a second sweep plans nothing again
    const listed = ok(await w.mA.client.get('/api/notifications')).body.items;
    expect(listed.map((n: { kind: string }) => n.kind)).toContain('manager_digest');
    expect(await planReminders(db(), now, [w.tenantId])).toMatchObject({ managerDigests: 0 });
  });
});
