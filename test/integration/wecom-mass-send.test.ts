import { materializeOccurrencePage } from '@sop/engine';
import { DateTime } from 'luxon';
import { randomBytes } from 'node:crypto';
import { useStack } from '../support/stack';
import { massSendPass, massSendWorld, WecomMassSendDesk } from '../support/wecom-mass-send';
import { useWecomServer } from '../support/wecom-server';

const MIN = 60_000;

/**
 * Issue 16 item 5: steps handed to WeCom as enterprise mass-sends (and Moments tasks) for the employee to confirm,
 * against a local WeCom, with real Postgres and the `wecomMassSendWorkflow` run by a real worker on Temporal.
 */
describe('WeCom mass-send: tasks handed to WeCom for the employee to confirm (real Postgres and Temporal, a local WeCom)', () => {
  const env: Record<string, string> = { JWT_SECRET: randomBytes(32).toString('hex') };
  const local = useWecomServer(env);
  const ctx = useStack({ worker: true, env });
  let desk: WecomMassSendDesk;
  let recorded = false;

  beforeAll(() => {
    desk = new WecomMassSendDesk(local());
  });
  afterEach(() => {
    desk.dispatchingPolls = 0;
    desk.loseAnswers = 0;
    desk.loseMomentAnswers = 0;
  });

  /** A connected organization with executors matched to WeCom members and a segment of customers. */
  const world = (label: string) => massSendWorld(ctx, local(), label);
  /** One pass of the mass-send workflow on the stack's worker, at `now`, for one organization. */
  const sweep = (tenantId: string, now: Date, record = false) =>
    massSendPass(ctx.stack, tenantId, now, record ? 'wecomMassSendWorkflow' : undefined);

  const tasksOf = (sopId: string) => ctx.stack.db.query(
    `SELECT t.id::text, c.name AS contact, t.status, t.outcome, t.wecom_send_state AS state, m.msgid
       FROM tasks t JOIN contacts c ON c.id = t.contact_id LEFT JOIN wecom_mass_sends m ON m.id = t.wecom_mass_send_id
      WHERE t.sop_id = $1 ORDER BY c.name`, [sopId]);
  const templatesOf = (corpId: string) => desk.templates.filter((x) => x.corpId === corpId);

  it('creates one template per executor batch, and completes `sent` the tasks of the customers the confirmed send reached', async () => {
    const w = await world('Mass send');
    const alice = await w.member('zhangsan');
    const bob = await w.member('lisi');
    await w.contact('a1', alice.id, 'wmA1');
    await w.contact('a2', alice.id, 'wmA2');
    await w.contact('a3', alice.id, 'wmA3');
    await w.contact('a4', alice.id, null); // not a WeCom customer: stays the executor's by hand
    await w.contact('b1', bob.id, 'wmB1');
    const sopId = await w.sop('Weekly news');
    const now = new Date();
    await w.materialize(sopId, now);
    desk.dispatchingPolls = 1; // WeCom still dispatching at the first read: 41063, read again later

    const first = await sweep(w.tenantId, now, !recorded);
    recorded = true;
    expect(first).toMatchObject({ created: 2, handed: 4, limited: 0 });
    const templates = templatesOf(w.corp.corpId);
    expect(templates.map((x) => ({ sender: x.sender, chatType: x.chatType, targets: [...x.targets.keys()].sort(), text: x.text.content }))
      .sort((a, b) => a.sender.localeCompare(b.sender))).toEqual([
      { sender: 'lisi', chatType: 'single', targets: ['wmB1'], text: '本周新品上架' },
      { sender: 'zhangsan', chatType: 'single', targets: ['wmA1', 'wmA2', 'wmA3'], text: '本周新品上架' },
    ]);
    // the material goes through the template's tracked link (test/integration/wecom-media.test.ts follows one)
    expect(templates[0].attachments).toEqual([{ msgtype: 'link', link: { title: '新品', url: expect.stringMatching(/\/r\/w\d+-0-[A-Za-z0-9_-]{22}$/) } }]);
    const aliceTemplate = templates.find((x) => x.sender === 'zhangsan')!;
    expect((await tasksOf(sopId)).map((r: { contact: string; state: string; msgid: string | null }) => [r.contact, r.state, r.msgid])).toEqual([
      ['a1', 'handed', aliceTemplate.msgid], ['a2', 'handed', aliceTemplate.msgid], ['a3', 'handed', aliceTemplate.msgid],
      ['a4', 'no_wecom_id', null], ['b1', 'handed', templates.find((x) => x.sender === 'lisi')!.msgid],
    ]);

    // Alice confirms in WeCom; meanwhile a3 deleted her. Bob has not confirmed yet.
    desk.confirm(aliceTemplate.msgid, { notFriends: ['wmA3'] });
    const second = await sweep(w.tenantId, new Date(now.getTime() + 2 * MIN));
    expect(second).toMatchObject({ created: 0, sent: 2 });
    const after = await tasksOf(sopId);
    expect(after.map((r: { contact: string; status: string; outcome: string | null; state: string }) => [r.contact, r.status, r.outcome, r.state])).toEqual([
      ['a1', 'done', 'sent', 'sent'], ['a2', 'done', 'sent', 'sent'], ['a3', 'pending', null, 'not_friend'],
      ['a4', 'pending', null, 'no_wecom_id'], ['b1', 'pending', null, 'handed'],
    ]);
    // through the inbox's completion path: a task event, the outcome as a response, the contact reached
    const [{ events, responses }] = await ctx.stack.db.query(
      `SELECT (SELECT count(*)::int FROM task_events WHERE task_id = ANY($1::bigint[]) AND action = 'completed') AS events,
              (SELECT count(*)::int FROM responses WHERE task_id = ANY($1::bigint[]) AND outcome = 'sent') AS responses`,
      [after.filter((r: { status: string }) => r.status === 'done').map((r: { id: string }) => r.id)]);
    expect({ events, responses }).toEqual({ events: 2, responses: 2 });
    const [{ done }] = await ctx.stack.db.query(`SELECT coalesce(sum(done), 0)::int AS done FROM task_rollups_sop WHERE sop_id = $1`, [sopId]);
    expect(done).toBe(2);
    const [row] = await ctx.stack.db.query(`SELECT status FROM wecom_mass_sends WHERE msgid = $1`, [aliceTemplate.msgid]);
    expect(row.status).toBe('finished');

    // Another pass changes nothing: no second template, nothing completed twice.
    const third = await sweep(w.tenantId, new Date(now.getTime() + 4 * MIN));
    expect(third).toMatchObject({ created: 0, handed: 0, sent: 0 });
    expect(templatesOf(w.corp.corpId)).toHaveLength(2);
  });

  it('a retried activity does not create a second template when WeCom\'s answer was lost', async () => {
    const w = await world('Lost answer');
    const alice = await w.member('zhangsan');
    await w.contact('a1', alice.id, 'wmA1');
    const sopId = await w.sop('Lost answer');
    const now = new Date();
    await w.materialize(sopId, now);
    desk.loseAnswers = 1; // WeCom makes the template, the answer never arrives: the activity fails and Temporal retries it

    const result = await sweep(w.tenantId, now);
    expect(templatesOf(w.corp.corpId)).toHaveLength(1);
    expect(result).toMatchObject({ handed: 0 }); // the retry found the intent recorded by the first attempt
    const [task] = await tasksOf(sopId);
    expect(task).toMatchObject({ state: 'handed', msgid: templatesOf(w.corp.corpId)[0].msgid });
  });

  it('cancels the unsent template when the SOP is archived', async () => {
    const w = await world('Archived');
    const alice = await w.member('zhangsan');
    await w.contact('a1', alice.id, 'wmA1');
    await w.contact('a2', alice.id, 'wmA2');
    const sopId = await w.sop('To archive');
    const now = new Date();
    await w.materialize(sopId, now);
    expect(await sweep(w.tenantId, now)).toMatchObject({ created: 1 });
    expect((await w.t.admin.post(`/api/sops/${sopId}/archive`)).status).toBe(200);

    expect(await sweep(w.tenantId, new Date(now.getTime() + 2 * MIN))).toMatchObject({ cancelled: 1 });
    const [template] = templatesOf(w.corp.corpId);
    expect(template.cancelled).toBe(true);
    expect((await ctx.stack.db.query(`SELECT status FROM wecom_mass_sends WHERE msgid = $1`, [template.msgid]))[0].status).toBe('cancelled');
    expect((await tasksOf(sopId)).map((r: { status: string }) => r.status)).toEqual(['cancelled', 'cancelled']);
  });

  it('does not hand a customer a 5th mass-send in a calendar month: that task stays the executor\'s, with the reason', async () => {
    const w = await world('Monthly limit');
    const alice = await w.member('zhangsan');
    await w.contact('a1', alice.id, 'wmA1');
    const now = new Date();
    const sops: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const sopId = await w.sop(`Send ${i}`, { content: { template: `第${i}条` } });
      await w.materialize(sopId, now);
      sops.push(sopId);
    }
    // swept after the five SOPs exist: a dispatcher that enrolled the contact after `now` made its task due then
    const result = await sweep(w.tenantId, new Date());
    expect(result).toMatchObject({ created: 4, handed: 4, limited: 1 });
    expect(templatesOf(w.corp.corpId)).toHaveLength(4);
    const states = (await Promise.all(sops.map(tasksOf))).flat().map((r: { status: string; state: string }) => [r.status, r.state]);
    expect(states.filter(([, s]) => s === 'handed')).toHaveLength(4);
    expect(states.filter(([status, s]) => status === 'pending' && s === 'monthly_limit')).toHaveLength(1);
    // the held task is not handed over on a later pass either
    expect(await sweep(w.tenantId, new Date(now.getTime() + 2 * MIN))).toMatchObject({ created: 0, handed: 0 });
  });

  it('hands a Moments step to WeCom as a Moments task and completes it `sent` once the employee posted it', async () => {
    const w = await world('Moments');
    const alice = await w.member('zhangsan');
    await w.contact('a1', alice.id, 'wmA1');
    await w.contact('a2', alice.id, 'wmA2');
    // text only: a Moments link needs a cover image from the library (test/integration/wecom-media.test.ts)
    const sopId = await w.sop('Moments post', { channel: 'moments', content: { template: '本周新品上架', materials: [] } });
    const now = new Date();
    await w.materialize(sopId, now);

    expect(await sweep(w.tenantId, now)).toMatchObject({ created: 1, handed: 2 });
    const [moment] = desk.moments.filter((m) => m.corpId === w.corp.corpId);
    expect(moment).toMatchObject({ senders: ['zhangsan'], text: { content: '本周新品上架' } });
    // get_moment_task_result said "still creating" at the first read; then the moment_id; not posted yet
    expect(await sweep(w.tenantId, new Date(now.getTime() + 2 * MIN))).toMatchObject({ sent: 0 });
    expect((await tasksOf(sopId)).map((r: { status: string }) => r.status)).toEqual(['pending', 'pending']);

    desk.postMoment(moment.jobid, 'zhangsan');
    expect(await sweep(w.tenantId, new Date(now.getTime() + 4 * MIN))).toMatchObject({ sent: 2 });
    expect((await tasksOf(sopId)).map((r: { status: string; outcome: string }) => [r.status, r.outcome])).toEqual([['done', 'sent'], ['done', 'sent']]);
    const [row] = await ctx.stack.db.query(`SELECT status, moment_id FROM wecom_mass_sends WHERE jobid = $1`, [moment.jobid]);
    expect(row).toEqual({ status: 'finished', moment_id: moment.momentId });
  });

  it('hands a group step to WeCom as one group template (chat_id_list) per owner and completes the groups it reached', async () => {
    const w = await world('Group send');
    const alice = await w.member('zhangsan');
    const group = async (name: string, chatId: string | null) => {
      const g = (await w.t.admin.post('/api/groups', { name, ownerId: alice.id })).body;
      if (chatId) await ctx.stack.db.query(`UPDATE customer_groups SET wecom_chat_id = $2 WHERE id = $1`, [g.id, chatId]);
      return g.id as string;
    };
    await group('一群', 'wrChat1');
    await group('二群', 'wrChat2');
    await group('线下群', null);
    const occurrence = DateTime.now().setZone('Asia/Shanghai').plus({ minutes: 2 }).startOf('minute');
    const created = await w.t.admin.post('/api/sops', { name: 'Live tonight', definition: {
      kind: 'recurring', timezone: 'Asia/Shanghai', audience: { groups: { ownerUserIds: [alice.id] } },
      schedule: { rrule: `FREQ=DAILY;BYHOUR=${occurrence.hour};BYMINUTE=${occurrence.minute}` },
      steps: [{ name: 'Post', dueWithinMinutes: 60, channel: 'group_chat', wecomMassSend: true, content: { template: '今晚 8 点直播' },
        executor: { rule: 'groupOwner' } }],
      policies: { businessDaysOnly: false },
    } });
    expect(created.status).toBe(201);
    const sopId = created.body.id as string;
    expect((await w.t.admin.post(`/api/sops/${sopId}/activate`)).status).toBe(200);
    expect(await materializeOccurrencePage(ctx.stack.db, { sopId, occurrence: occurrence.toJSDate(), after: null, limit: 100 })).toMatchObject({ tasks: 3 });

    const at = occurrence.plus({ minutes: 1 }).toJSDate();
    expect(await sweep(w.tenantId, at)).toMatchObject({ created: 1, handed: 2 });
    const [template] = templatesOf(w.corp.corpId);
    expect({ chatType: template.chatType, sender: template.sender, chats: [...template.targets.keys()].sort() })
      .toEqual({ chatType: 'group', sender: 'zhangsan', chats: ['wrChat1', 'wrChat2'] });
    desk.confirm(template.msgid);
    expect(await sweep(w.tenantId, new Date(at.getTime() + 2 * MIN))).toMatchObject({ sent: 2 });
    const tasks = await ctx.stack.db.query(
      `SELECT g.name, t.status, t.outcome, t.wecom_send_state AS state FROM tasks t JOIN customer_groups g ON g.id = t.group_id WHERE t.sop_id = $1 ORDER BY g.name`, [sopId]);
    expect(tasks).toEqual([
      { name: '一群', status: 'done', outcome: 'sent', state: 'sent' }, { name: '二群', status: 'done', outcome: 'sent', state: 'sent' },
      { name: '线下群', status: 'pending', outcome: null, state: 'no_wecom_id' },
    ]);
  });

  it('a template WeCom refuses to read back is retried with backoff, never holds up the others, and is given up with its reason', async () => {
    const w = await world('Refused read-back');
    const alice = await w.member('zhangsan');
    const bob = await w.member('lisi');
    await w.contact('a1', alice.id, 'wmA1');
    await w.contact('b1', bob.id, 'wmB1');
    const sopId = await w.sop('Read-back refused');
    const now = new Date();
    await w.materialize(sopId, now);
    expect(await sweep(w.tenantId, now)).toMatchObject({ created: 2 });
    for (const x of templatesOf(w.corp.corpId)) desk.confirm(x.msgid);
    const rows = () => ctx.stack.db.query(
      `SELECT id::text, status, error, next_poll_at, poll_refusals FROM wecom_mass_sends WHERE tenant_id = $1 ORDER BY id`, [w.tenantId]);

    // WeCom refuses the first template read (an errcode that is no rate limit): the other is still read and completed
    local().failNext('/cgi-bin/externalcontact/get_groupmsg_task', 40058, 1);
    const at1 = new Date(now.getTime() + 2 * MIN);
    expect(await sweep(w.tenantId, at1)).toMatchObject({ sent: 1 });
    const [refused] = (await rows()).filter((r: { status: string }) => r.status === 'waiting');
    expect(refused.error).toMatch(/40058/);
    expect(refused.poll_refusals).toBe(1);
    expect(refused.next_poll_at.getTime()).toBeGreaterThan(at1.getTime() + MIN); // backed off
    // read again once its backoff is over: completed
    expect(await sweep(w.tenantId, new Date(refused.next_poll_at.getTime() + 1000))).toMatchObject({ sent: 1 });
    expect((await tasksOf(sopId)).map((r: { status: string }) => r.status)).toEqual(['done', 'done']);

    // refused every time: given up after a bounded number of reads, its task left to the executor with the reason
    const other = await w.sop('Read-back always refused', { content: { template: '第二条' } });
    await w.materialize(other, now);
    expect(await sweep(w.tenantId, new Date(now.getTime() + 10 * MIN))).toMatchObject({ created: 2 });
    local().failNext('/cgi-bin/externalcontact/get_groupmsg_task', 40058, 1000);
    try {
      let at = now.getTime() + 10 * MIN;
      for (let i = 0; i < 12; i++) {
        at += 120 * MIN; // past any backoff
        await sweep(w.tenantId, new Date(at));
      }
    } finally {
      local().failNext('/cgi-bin/externalcontact/get_groupmsg_task', 40058, 0);
    }
    const given = (await rows()).slice(2);
    expect(given.map((r: { status: string }) => r.status)).toEqual(['failed', 'failed']);
    expect(given[0].error).toMatch(/40058/);
    expect(given[0].poll_refusals).toBeLessThanOrEqual(6);
    expect((await tasksOf(other)).map((r: { status: string; state: string }) => [r.status, r.state])).toEqual([['pending', 'failed'], ['pending', 'failed']]);
    const reads = local().calls.get('/cgi-bin/externalcontact/get_groupmsg_task') ?? 0;
    await sweep(w.tenantId, new Date(now.getTime() + 40 * 60 * MIN));
    expect(local().calls.get('/cgi-bin/externalcontact/get_groupmsg_task') ?? 0).toBe(reads); // not read any more
  });

  it('sends a Moments intent an earlier attempt never sent to WeCom; fails only one whose call was made and its answer lost', async () => {
    const w = await world('Moments retried');
    const alice = await w.member('zhangsan');
    const bob = await w.member('lisi');
    await w.contact('a1', alice.id, 'wmA1');
    await w.contact('b1', bob.id, 'wmB1');
    const sopId = await w.sop('Moments retried', { channel: 'moments', content: { template: '本周新品上架', materials: [] } });
    const now = new Date();
    await w.materialize(sopId, now);
    // the first add_moment_task is rate-limited past the client's retries: the activity fails before the second
    // intent is sent; Temporal's retry finds both intents still `creating`
    local().failNext('/cgi-bin/externalcontact/add_moment_task', 45009, 4);
    await sweep(w.tenantId, now);
    expect(desk.moments.filter((m) => m.corpId === w.corp.corpId).map((m) => m.senders[0]).sort()).toEqual(['lisi', 'zhangsan']);
    const rows = await ctx.stack.db.query(`SELECT status, error FROM wecom_mass_sends WHERE tenant_id = $1 ORDER BY id`, [w.tenantId]);
    expect(rows).toEqual([{ status: 'waiting', error: null }, { status: 'waiting', error: null }]);
    expect((await tasksOf(sopId)).map((r: { state: string }) => r.state)).toEqual(['handed', 'handed']);

    // a call made whose answer was lost: WeCom may hold the task, so the retry does not repeat it (at most once)
    const lost = await w.sop('Moments lost answer', { channel: 'moments', content: { template: '朋友圈第二条' } });
    await w.materialize(lost, now);
    desk.loseMomentAnswers = 1;
    await sweep(w.tenantId, new Date(now.getTime() + MIN));
    const made = desk.moments.filter((m) => m.corpId === w.corp.corpId && m.text.content === '朋友圈第二条');
    expect(made).toHaveLength(2); // one answer lost, the other batch answered
    const after = await ctx.stack.db.query(
      `SELECT status, error FROM wecom_mass_sends WHERE tenant_id = $1 AND content = '朋友圈第二条' ORDER BY status`, [w.tenantId]);
    expect(after.map((r: { status: string }) => r.status)).toEqual(['failed', 'waiting']);
    expect(after[0].error).toMatch(/not repeated/);
  });

  it('refuses the option on a channel WeCom cannot take, naming the field', async () => {
    const w = await world('Refused');
    const [segment] = await ctx.stack.db.query(`SELECT id FROM segments WHERE tenant_id = $1`, [w.tenantId]);
    const res = await w.t.admin.post('/api/sops', { name: 'SMS', definition: {
      kind: 'journey', audience: { segmentId: segment.id },
      steps: [{ name: 'x', offsetDays: 0, window: { start: '09:00', end: '10:00' }, channel: 'sms', wecomMassSend: true,
        content: { template: 'hi' }, executor: { rule: 'contactOwner' } }], policies: {},
    } });
    expect(res.status).toBe(422);
    expect(res.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'definition.steps[0].wecomMassSend' })]));
  });
});
