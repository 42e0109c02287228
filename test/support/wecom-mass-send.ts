import { enrollEntrants, materializeDuePage } from '@sop/engine';
import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { zoneWithOpenWindow } from './clock';
import { testEnv } from './env';
import { createTagSystem } from './fixtures';
import { saveHistory } from './histories';
import { addUser, type Http, signupTenant, type TenantFixture } from './http';
import type { Stack } from './stack';
import { newCorp, type WecomCall, type WecomServer } from './wecom-server';

/**
 * WeCom's enterprise mass-send (企业群发) and Moments tasks (企业朋友圈) as its published server API reference
 * describes them (客户联系 → 消息推送 / 客户朋友圈), for one local WeCom (all corporations), with test hooks that
 * do what the employee does in WeCom: confirm a template, post a Moments task.
 *
 * - `add_msg_template`: chat_type `single` (external_userid, at most 10,000) or `group` (chat_id_list, sender
 *   required), text and/or attachments (at most 9); answers `msgid` and `fail_list` (customers that are not the
 *   sender's, when the test said who is);
 * - `get_groupmsg_list_v2` (chat_type, start_time/end_time, creator, filter_type, limit ≤ 100, cursor);
 * - `get_groupmsg_task` (msgid, limit ≤ 1000, cursor → task_list { userid, status 0 unsent / 2 sent, send_time });
 * - `get_groupmsg_send_result` (msgid, userid, limit ≤ 1000, cursor → send_list { external_userid | chat_id,
 *   userid, status 0 unsent / 1 sent / 2 not a friend / 3 the customer's monthly limit, send_time });
 *   both answer 41063 while a new template is still being dispatched (`dispatchingPolls`);
 * - `cancel_groupmsg_send` (msgid): stops an unsent template;
 * - `add_moment_task` (async: `jobid`), `get_moment_task_result` (GET jobid → status 1 started / 2 running /
 *   3 done, result.moment_id), `get_moment_task` (moment_id, cursor → task_list { userid, publish_status }),
 *   `get_moment_customer_list` (moment_id, userid, cursor → customer_list), `cancel_moment_task`.
 *
 * A customer receives at most 4 1:1 mass-sends a calendar month (China time) from one corporation: a confirmed
 * template's 5th to a customer is status 3. 40058 is WeCom's "invalid parameter" (a missing or out-of-range field,
 * an unknown msgid or moment). Cursors are opaque.
 */
export interface MassTemplate {
  corpId: string;
  msgid: string;
  chatType: 'single' | 'group';
  sender: string;
  createTime: number;
  text: { content?: string };
  attachments: Record<string, unknown>[];
  /** external_userid or chat_id → status (0 unsent, 1 sent, 2 not a friend, 3 monthly limit) */
  targets: Map<string, number>;
  /** the sender's task: 0 unsent, 2 sent */
  senderStatus: 0 | 2;
  sendTime?: number;
  cancelled: boolean;
}

export interface MomentTask {
  corpId: string;
  jobid: string;
  momentId: string;
  senders: string[];
  text: { content?: string };
  attachments: Record<string, unknown>[];
  /** calls of get_moment_task_result before it says done */
  pendingPolls: number;
  published: Set<string>;
  cancelled: boolean;
}

const invalid = (field: string) => ({ errcode: 40058, errmsg: `invalid parameter: ${field}` });
const ok = (extra: Record<string, unknown> = {}) => ({ errcode: 0, errmsg: 'ok', ...extra });
const MONTHLY_LIMIT = 4;

/** One page of `items` from an opaque cursor (the offset in base64url), or null for a bad cursor. */
function page<T>(items: T[], cursor: unknown, limit: number): { items: T[]; next_cursor: string } | null {
  const from = cursor ? Number(Buffer.from(String(cursor), 'base64url').toString()) : 0;
  if (!Number.isInteger(from) || from < 0) return null;
  const next = from + limit;
  return { items: items.slice(from, next), next_cursor: next < items.length ? Buffer.from(String(next)).toString('base64url') : '' };
}

const limitOf = (v: unknown, max: number): number | null => {
  const n = v === undefined ? max : Number(v);
  return Number.isInteger(n) && n >= 1 && n <= max ? n : null;
};

const monthOf = (epochS: number) => new Date(epochS * 1000 + 8 * 3_600_000).toISOString().slice(0, 7); // China time, no DST

export class WecomMassSendDesk {
  readonly templates: MassTemplate[] = [];
  readonly moments: MomentTask[] = [];
  /** sender → their customers; a sender not listed is everyone's friend */
  readonly friends = new Map<string, Set<string>>();
  /** how many polls of a new template answer 41063 (still being dispatched) */
  dispatchingPolls = 0;
  /** the next N add_msg_template calls create the template but their answer is lost (the caller sees no JSON) */
  loseAnswers = 0;
  /** the same for add_moment_task: the Moments task is made, its answer never arrives */
  loseMomentAnswers = 0;
  /** media_id attachments checked by the media desk (test/support/wecom-media.ts) when one serves this WeCom */
  checkAttachments?: (corpId: string, use: 'template' | 'moment', attachments: Record<string, unknown>[]) => Record<string, unknown> | null;
  private readonly dispatching = new Map<string, number>();

  constructor(server: WecomServer) {
    const contact = (handler: (call: WecomCall) => Record<string, unknown>) => (call: WecomCall) =>
      call.secret === 'contact' ? handler(call) : { errcode: 48002, errmsg: 'api forbidden' };
    server
      .route('/cgi-bin/externalcontact/add_msg_template', contact((call) => this.addTemplate(call)))
      .route('/cgi-bin/externalcontact/get_groupmsg_list_v2', contact((call) => this.list(call)))
      .route('/cgi-bin/externalcontact/get_groupmsg_task', contact((call) => this.task(call)))
      .route('/cgi-bin/externalcontact/get_groupmsg_send_result', contact((call) => this.sendResult(call)))
      .route('/cgi-bin/externalcontact/cancel_groupmsg_send', contact((call) => {
        const t = this.template(call);
        if (!t) return invalid('msgid');
        t.cancelled = true;
        return ok();
      }))
      .route('/cgi-bin/externalcontact/add_moment_task', contact((call) => this.addMoment(call)))
      .route('/cgi-bin/externalcontact/get_moment_task_result', contact((call) => this.momentResult(call)))
      .route('/cgi-bin/externalcontact/get_moment_task', contact((call) => {
        const m = this.moment(call);
        if (!m) return invalid('moment_id');
        const limit = limitOf(call.body.limit, 1000);
        const p = limit === null ? null : page(m.senders, call.body.cursor, limit);
        if (!p) return invalid(limit === null ? 'limit' : 'cursor');
        return ok({ next_cursor: p.next_cursor, task_list: p.items.map((userid) => ({ userid, publish_status: m.published.has(userid) ? 1 : 0 })) });
      }))
      .route('/cgi-bin/externalcontact/get_moment_customer_list', contact((call) => {
        const m = this.moment(call);
        const userid = String(call.body.userid ?? '');
        if (!m || !m.senders.includes(userid)) return invalid(m ? 'userid' : 'moment_id');
        const limit = limitOf(call.body.limit, 1000);
        const p = limit === null ? null : page([...(this.friends.get(userid) ?? [])].sort(), call.body.cursor, limit);
        if (!p) return invalid(limit === null ? 'limit' : 'cursor');
        return ok({ next_cursor: p.next_cursor, customer_list: m.published.has(userid) ? p.items.map((external_userid) => ({ userid, external_userid })) : [] });
      }))
      .route('/cgi-bin/externalcontact/cancel_moment_task', contact((call) => {
        const m = this.moment(call);
        if (!m) return invalid('moment_id');
        m.cancelled = true;
        return ok();
      }));
  }

  /** Test hook: the sender confirms the template in WeCom, as the employee would; per-customer status follows WeCom's rules. */
  confirm(msgid: string, { at = Math.floor(Date.now() / 1000), notFriends = [] as string[] } = {}): MassTemplate {
    const t = this.templates.find((x) => x.msgid === msgid);
    if (!t || t.cancelled) throw new Error(`no template ${msgid} to confirm`);
    t.senderStatus = 2;
    t.sendTime = at;
    for (const target of t.targets.keys()) {
      if (t.targets.get(target) !== 0) continue;
      if (notFriends.includes(target)) t.targets.set(target, 2); // the customer deleted the sender meanwhile
      else if (t.chatType === 'single' && this.receivedThisMonth(t.corpId, target, at) >= MONTHLY_LIMIT) t.targets.set(target, 3);
      else t.targets.set(target, 1);
    }
    return t;
  }

  /** Test hook: a sender posts a Moments task in WeCom. */
  postMoment(jobid: string, userid: string): void {
    const m = this.moments.find((x) => x.jobid === jobid);
    if (!m || m.cancelled || !m.senders.includes(userid)) throw new Error(`no Moments task ${jobid} for ${userid}`);
    m.published.add(userid);
  }

  /** 1:1 mass-sends the customer received this calendar month from the corporation. */
  receivedThisMonth(corpId: string, externalUserId: string, at: number): number {
    return this.templates.filter((t) => t.corpId === corpId && t.chatType === 'single' && t.sendTime !== undefined
      && monthOf(t.sendTime) === monthOf(at) && t.targets.get(externalUserId) === 1).length;
  }

  private isFriend(sender: string, externalUserId: string): boolean {
    const friends = this.friends.get(sender);
    return !friends || friends.has(externalUserId);
  }

  private addTemplate(call: WecomCall): Record<string, unknown> {
    const b = call.body;
    const chatType = (b.chat_type ?? 'single') as string;
    if (chatType !== 'single' && chatType !== 'group') return invalid('chat_type');
    const sender = typeof b.sender === 'string' ? b.sender : '';
    const text = (b.text ?? {}) as { content?: string };
    const attachments = Array.isArray(b.attachments) ? (b.attachments as Record<string, unknown>[]) : [];
    if (!text.content && !attachments.length) return invalid('text');
    if (Buffer.byteLength(text.content ?? '') > 4000) return invalid('text.content');
    if (attachments.length > 9) return invalid('attachments');
    for (const a of attachments) {
      const link = a.link as { title?: string; url?: string } | undefined;
      if (a.msgtype === 'link' && (!link?.title || !link.url)) return invalid('attachments.link');
      if (a.msgtype === 'image' && !(a.image as { media_id?: string; pic_url?: string } | undefined)?.media_id
        && !(a.image as { pic_url?: string } | undefined)?.pic_url) return invalid('attachments.image');
      if (!['link', 'image', 'miniprogram', 'video', 'file'].includes(String(a.msgtype))) return invalid('attachments.msgtype');
    }
    const refused = this.checkAttachments?.(call.corp.corpId, 'template', attachments);
    if (refused) return refused;
    let targets: string[];
    const failList: string[] = [];
    if (chatType === 'single') {
      const list = b.external_userid;
      if (!Array.isArray(list) || list.length > 10_000 || (!list.length && !sender)) return invalid('external_userid');
      targets = list.map(String).filter((e) => {
        if (sender && !this.isFriend(sender, e)) return failList.push(e), false;
        return true;
      });
    } else {
      if (!sender) return invalid('sender');
      const list = b.chat_id_list;
      if (!Array.isArray(list) || !list.length) return invalid('chat_id_list');
      targets = list.map(String);
    }
    const msgid = `msg${randomBytes(9).toString('base64url')}`;
    this.templates.push({
      corpId: call.corp.corpId, msgid, chatType, sender, createTime: Math.floor(Date.now() / 1000), text, attachments,
      targets: new Map(targets.map((t) => [t, 0])), senderStatus: 0, cancelled: false,
    });
    this.dispatching.set(msgid, this.dispatchingPolls);
    if (this.loseAnswers > 0) {
      this.loseAnswers--;
      return {}; // not WeCom's JSON: the client takes WeCom as out of reach, as when the answer never arrives
    }
    return ok({ fail_list: failList, msgid });
  }

  private template(call: WecomCall): MassTemplate | undefined {
    return this.templates.find((t) => t.corpId === call.corp.corpId && t.msgid === call.body.msgid);
  }

  /** 41063 while the template is still being dispatched (the first `dispatchingPolls` reads). */
  private stillDispatching(msgid: string): boolean {
    const left = this.dispatching.get(msgid) ?? 0;
    if (left <= 0) return false;
    this.dispatching.set(msgid, left - 1);
    return true;
  }

  private list(call: WecomCall): Record<string, unknown> {
    const b = call.body;
    const start = Number(b.start_time);
    const end = Number(b.end_time);
    if (!Number.isInteger(start) || !Number.isInteger(end) || end < start || end - start > 31 * 86_400) return invalid('start_time');
    const limit = limitOf(b.limit, 100);
    if (limit === null) return invalid('limit');
    const creators = Array.isArray(b.creator) ? b.creator.map(String) : null;
    const found = this.templates.filter((t) => t.corpId === call.corp.corpId && t.chatType === (b.chat_type ?? 'single')
      && t.createTime >= start && t.createTime <= end && (!creators || creators.includes(t.sender)));
    const p = page(found, b.cursor, limit);
    if (!p) return invalid('cursor');
    return ok({ next_cursor: p.next_cursor, group_msg_list: p.items.map((t) => ({
      msgid: t.msgid, creator: t.sender, create_time: String(t.createTime), create_type: 0, text: t.text, attachments: t.attachments,
    })) });
  }

  private task(call: WecomCall): Record<string, unknown> {
    const t = this.template(call);
    if (!t) return invalid('msgid');
    if (this.stillDispatching(t.msgid)) return { errcode: 41063, errmsg: 'the message is being sent, please try again later' };
    const limit = limitOf(call.body.limit, 1000);
    const p = limit === null ? null : page([t.sender], call.body.cursor, limit);
    if (!p) return invalid(limit === null ? 'limit' : 'cursor');
    return ok({ next_cursor: p.next_cursor, task_list: p.items.map((userid) => ({ userid, status: t.senderStatus, ...(t.sendTime ? { send_time: t.sendTime } : {}) })) });
  }

  private sendResult(call: WecomCall): Record<string, unknown> {
    const t = this.template(call);
    if (!t) return invalid('msgid');
    if (call.body.userid !== t.sender) return invalid('userid');
    if (this.stillDispatching(t.msgid)) return { errcode: 41063, errmsg: 'the message is being sent, please try again later' };
    const limit = limitOf(call.body.limit, 1000);
    const p = limit === null ? null : page([...t.targets.entries()], call.body.cursor, limit);
    if (!p) return invalid(limit === null ? 'limit' : 'cursor');
    return ok({ next_cursor: p.next_cursor, send_list: p.items.map(([target, status]) => ({
      ...(t.chatType === 'single' ? { external_userid: target } : { chat_id: target }), userid: t.sender, status,
      ...(status === 1 && t.sendTime ? { send_time: t.sendTime } : {}),
    })) });
  }

  private addMoment(call: WecomCall): Record<string, unknown> {
    const b = call.body;
    const text = (b.text ?? {}) as { content?: string };
    const attachments = Array.isArray(b.attachments) ? (b.attachments as Record<string, unknown>[]) : [];
    if (!text.content && !attachments.length) return invalid('text');
    const range = b.visible_range as { sender_list?: { user_list?: string[] } } | undefined;
    const senders = range?.sender_list?.user_list ?? [];
    if (!senders.length) return invalid('visible_range.sender_list');
    const refused = this.checkAttachments?.(call.corp.corpId, 'moment', attachments);
    if (refused) return refused;
    const jobid = `job${randomBytes(9).toString('base64url')}`;
    this.moments.push({
      corpId: call.corp.corpId, jobid, momentId: `mom${randomBytes(9).toString('base64url')}`, senders, text, attachments,
      pendingPolls: 1, published: new Set(), cancelled: false,
    });
    if (this.loseMomentAnswers > 0) {
      this.loseMomentAnswers--;
      return {}; // not WeCom's JSON: the client takes WeCom as out of reach
    }
    return ok({ jobid });
  }

  private momentResult(call: WecomCall): Record<string, unknown> {
    const m = this.moments.find((x) => x.corpId === call.corp.corpId && x.jobid === call.query.get('jobid'));
    if (!m) return invalid('jobid');
    if (m.pendingPolls > 0) {
      m.pendingPolls--;
      return ok({ status: 2, type: 'add_moment_task' });
    }
    return ok({ status: 3, type: 'add_moment_task', result: {
      errcode: 0, errmsg: 'ok', moment_id: m.momentId, invalid_sender_list: { user_list: [] }, invalid_external_contact_list: { tag_list: [] },
    } });
  }

  private moment(call: WecomCall): MomentTask | undefined {
    return this.moments.find((x) => x.corpId === call.corp.corpId && x.momentId === call.body.moment_id);
  }
}

/** The link material a mass-sent step shows unless the test says otherwise. */
export const NEWS_LINK = { title: '新品', url: 'https://shop.example/new', tagIds: [] };

/**
 * A tenant connected to a new corporation of the local WeCom, with its tag system and the segment "High intent"
 * (its intentHigh tag); helpers add executors matched to WeCom members, customers, and SOPs whose one step is handed
 * to WeCom as a mass-send. The world of test/integration/wecom-mass-send.test.ts and wecom-media.test.ts.
 */
export async function massSendWorld(ctx: { stack: Stack; http: Http }, wecom: WecomServer, label: string) {
  const { db } = ctx.stack;
  const t: TenantFixture = await signupTenant(ctx.http, label);
  const corp = wecom.add(newCorp());
  expect((await t.admin.put('/api/wecom/connection', corp)).status).toBe(200);
  const [{ tenant_id: tenantId }] = await db.query(`SELECT tenant_id FROM wecom_connections WHERE corp_id = $1`, [corp.corpId]);
  const { tags } = await createTagSystem(t.admin);
  const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
  /** An employee matched by hand to the WeCom member. */
  const member = async (wecomUserId: string) => {
    const user = await addUser(t, ctx.http, 'employee');
    await db.query(`INSERT INTO wecom_users (tenant_id, wecom_user_id, name, user_id, matched_by) VALUES ($1, $2, $2, $3, 'hand')`,
      [tenantId, wecomUserId, user.id]);
    return user;
  };
  /** A customer in the segment, owned by `ownerId`; `wecomId` null: not a WeCom customer. */
  const contact = async (externalId: string, ownerId: string, wecomId: string | null = `wm${externalId}`) => {
    // in a zone where the journey's all-day window (00:00-23:59) is open for hours yet, so `materialize` makes the task now
    const c = (await t.admin.post('/api/contacts', { externalId, name: externalId, ownerId, tags: [tags.intentHigh.id], timezone: zoneWithOpenWindow() })).body;
    if (wecomId) await db.query(`UPDATE contacts SET wecom_external_user_id = $2 WHERE id = $1`, [c.id, wecomId]);
    return c.id as string;
  };
  /** A journey of one step (day 0, all day) for the segment whose tasks go to the contact's owner, handed to WeCom. */
  const definition = (step: Record<string, unknown> = {}) => ({
    kind: 'journey', timezone: 'Asia/Shanghai', audience: { segmentId: segment.id }, entry: { includeExistingMembers: true },
    steps: [{ name: 'Reach out', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat', wecomMassSend: true,
      content: { template: '本周新品上架', materials: [NEWS_LINK] }, executor: { rule: 'contactOwner' }, ...step }],
    policies: { businessDaysOnly: false },
  });
  /** An active SOP of `definition(step)`; its id. */
  const sop = async (name: string, step: Record<string, unknown> = {}) => {
    const created = await t.admin.post('/api/sops', { name, definition: definition(step) });
    expect(created.status).toBe(201);
    expect((await t.admin.post(`/api/sops/${created.body.id}/activate`)).status).toBe(200);
    return created.body.id as string;
  };
  /** Tasks made now, the way the dispatcher makes them (its own run may make them first: the same rows). */
  const materialize = async (sopId: string, now: Date) => {
    await enrollEntrants(db, sopId, now);
    await materializeDuePage(db, sopId, now, 100);
  };
  return { t, corp, tenantId: tenantId as string, member, contact, definition, sop, materialize };
}

/**
 * One pass of `wecomMassSendWorkflow` on the stack's worker at `now`, for one organization; its result. `record`
 * names the replay history to save when RECORD_HISTORIES is set.
 */
export async function massSendPass(stack: Stack, tenantId: string, now: Date, record?: string) {
  const connection = await Connection.connect({ address: testEnv('TEMPORAL_ADDRESS') });
  try {
    const client = new Client({ connection });
    const workflowId = `wecom-mass-send-${tenantId}-${now.getTime()}-${randomBytes(3).toString('hex')}`;
    const result = await client.workflow.execute('wecomMassSendWorkflow', {
      taskQueue: stack.taskQueue, workflowId, args: [{ now: now.getTime(), tenantIds: [tenantId] }],
    });
    if (record && process.env.RECORD_HISTORIES) saveHistory(record, await client.workflow.getHandle(workflowId).fetchHistory());
    return result;
  } finally {
    await connection.close();
  }
}
