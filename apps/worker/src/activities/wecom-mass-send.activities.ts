import { completeTaskWithOutcome, type Queryable } from '@sop/engine';
import { WECOM_MASS_SENDS_PER_MONTH } from '@sop/domain';
import { WecomApiError, WecomUnreachable, type WecomAccess, type WecomAnswer, type WecomClient } from '@sop/wecom';
import type { MassSendRun, WecomMassSendActivities } from '@sop/workflows';
import { DateTime } from 'luxon';
import { createHash, randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { heartbeating } from './heartbeating';
import { type AttachmentDeps, AttachmentRefused, attachmentsFor, type ImageReads, type TaskMaterial } from './wecom-attachments';

/**
 * Issue 16 item 5: steps with `wecomMassSend` hand their tasks to WeCom, where the executor confirms the send
 * (WeCom forbids sending for them). Per executor and batch (tasks of one SOP version and step, due in the same
 * window, with the same rendered content: a template carries one text for every recipient) one
 * `add_msg_template` (1:1: `external_userid` list, or groups: `chat_id_list`; sender = the executor's WeCom
 * UserID) or, for Moments, one `add_moment_task`. The intent (a `wecom_mass_sends` row with its tasks linked)
 * commits before WeCom is called, so a retried activity never creates a second template: a row it finds still
 * `creating` from an earlier attempt is first looked up in WeCom (`get_groupmsg_list_v2`, same sender and text,
 * created since the intent). Then the template is read back (`get_groupmsg_task`, `get_groupmsg_send_result`,
 * cursor pages) until the executor sent it or it expires: the tasks of customers (or groups) it reached are
 * completed `sent` through the same path as the inbox's; the others keep WeCom's word in `wecom_send_state`
 * (not a friend, the customer's monthly limit) and stay pending for the executor by hand. A template whose
 * tasks are all gone (cancelled by an archived SOP, done by hand) is cancelled in WeCom while unsent.
 */

/** WeCom takes at most this many customers in one add_msg_template. */
const MAX_RECIPIENTS = 10_000;
/** A template is read back this often until it is final. */
const POLL_EVERY_MS = 60_000;
/** Read back at most this long after its window closed; what is unsent then is left to the executor by hand. */
const KEEP_POLLING_MS = 7 * 86_400_000;
/** WeCom's answer while a new template is still being dispatched to the sender ("try again later"). */
const DISPATCHING = 41063;
/** Tasks looked at per tenant and pass (the next pass takes the rest). */
const HANDOVER_PAGE = 20_000;
/**
 * WeCom refusing to read a template back (an errcode that is no rate limit): read again after a backoff (2, 4, 8,
 * 16 minutes), given up after this many refusals in a row. One refused template never holds up the others.
 */
const MAX_POLL_REFUSALS = 5;
const refusalBackoffMs = (refusals: number) => Math.min(POLL_EVERY_MS * 2 ** refusals, 60 * POLL_EVERY_MS);

type Kind = 'single' | 'group' | 'moment';
const KIND_OF_CHANNEL: Record<string, Kind> = { wecom_chat: 'single', group_chat: 'group', moments: 'moment' };

interface DueTask {
  id: string;
  sop_id: string;
  sop_version_id: string;
  step_index: number;
  executor_id: string;
  contact_id: string | null;
  group_id: string | null;
  channel: string;
  content: string;
  materials: TaskMaterial[];
  due_at: Date;
  due_until: Date;
}

interface MassSendRow {
  id: string;
  tenant_id: string;
  kind: Kind;
  sender: string;
  content: string;
  msgid: string | null;
  jobid: string | null;
  moment_id: string | null;
  link_token: string | null;
  created_at: Date;
  expires_at: Date;
}

const empty = (): MassSendRun => ({ created: 0, handed: 0, limited: 0, polled: 0, sent: 0, cancelled: 0 });
const add = (a: MassSendRun, b: MassSendRun): MassSendRun => ({
  created: a.created + b.created, handed: a.handed + b.handed, limited: a.limited + b.limited,
  polled: a.polled + b.polled, sent: a.sent + b.sent, cancelled: a.cancelled + b.cancelled,
});

/**
 * Worth Temporal's retry: WeCom out of reach or still rate-limiting, or our own database. Anything else (WeCom
 * refusing, secrets sealed under a retired key) fails the same way every time, and thrown it would stop every
 * organization's mass-sends, since the read-back runs only after the hand-over.
 */
const transient = (err: unknown) =>
  err instanceof WecomUnreachable || (err instanceof WecomApiError && err.retryable) || (err as { driverError?: unknown })?.driverError !== undefined;

async function recordConnectionError(db: DataSource, tenantId: string, err: unknown): Promise<void> {
  await db.query(`UPDATE wecom_connections SET last_error = $2, last_error_at = now() WHERE tenant_id = $1`,
    [tenantId, `Mass-send: ${err instanceof Error ? err.message : String(err)}`.slice(0, 1000)]);
}

export function wecomMassSendActivities(db: DataSource, wecom?: WecomAccess, deps: AttachmentDeps = {}): WecomMassSendActivities {
  const perTenant = async (tenantIds: string[] | undefined, work: (tenantId: string, client: WecomClient) => Promise<MassSendRun>) => {
    if (!wecom) return empty(); // a worker without WECOM_SECRET_KEYS leaves mass-sends to one that has them
    const tenants: { tenant_id: string }[] = await db.query(
      `SELECT tenant_id FROM wecom_connections WHERE $1::uuid[] IS NULL OR tenant_id = ANY($1::uuid[]) ORDER BY tenant_id`, [tenantIds ?? null]);
    let run = empty();
    let failure: unknown;
    for (const { tenant_id: tenantId } of tenants) {
      // one organization's WeCom out of reach does not hold up the others' sends
      try {
        const connection = await wecom.connection(db, tenantId);
        if (connection) run = add(run, await work(tenantId, wecom.contacts(connection)));
      } catch (err) {
        if (transient(err)) failure ??= err;
        else await recordConnectionError(db, tenantId, err); // would fail every retry: said on the status, not thrown
      }
    }
    if (failure) throw failure; // retried by Temporal: what the others did is not done again (intents and states are keyed)
    return run;
  };
  return {
    handOverMassSends: ({ now, tenantIds }) => heartbeating(() => perTenant(tenantIds, (tenantId, client) => handOver(db, client, tenantId, new Date(now), deps))),
    pollMassSends: ({ now, tenantIds }) => heartbeating(() => perTenant(tenantIds, (tenantId, client) => pollAll(db, client, tenantId, new Date(now)))),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Handing tasks over

async function handOver(db: DataSource, client: WecomClient, tenantId: string, now: Date, deps: AttachmentDeps): Promise<MassSendRun> {
  const run = empty();
  const due: DueTask[] = await db.query(
    `SELECT t.id::text, t.sop_id, t.sop_version_id, t.step_index, t.executor_id, t.contact_id, t.group_id, t.channel, t.content, t.materials,
            t.due_at, t.due_until
       FROM tasks t JOIN sop_versions v ON v.id = t.sop_version_id JOIN sops s ON s.id = t.sop_id
      WHERE t.tenant_id = $1 AND t.status = 'pending' AND t.wecom_send_state IS NULL AND t.executor_id IS NOT NULL
        AND t.channel IN ('wecom_chat', 'group_chat', 'moments') AND t.due_at <= $2 AND t.due_until > $2 AND s.status = 'active'
        AND coalesce((v.definition->'steps'->t.step_index->>'wecomMassSend')::boolean, false)
      ORDER BY t.id LIMIT $3`,
    [tenantId, now, HANDOVER_PAGE]);
  const batches = new Map<string, DueTask[]>();
  for (const t of due) {
    const digest = createHash('md5').update(t.content).update(JSON.stringify(t.materials.map((m) => [m.title, m.url]))).digest('hex');
    const key = [t.sop_version_id, t.step_index, t.executor_id, t.due_at.toISOString(), t.due_until.toISOString(), digest].join('|');
    batches.set(key, [...(batches.get(key) ?? []), t]);
  }
  const fresh = new Set<string>();
  for (const batch of batches.values()) {
    const made = await db.transaction((m) => recordIntent(m, tenantId, batch, now));
    made.ids.forEach((id) => fresh.add(id));
    run.limited += made.limited;
    run.handed += made.handed;
  }
  // every intent still `creating`: this pass's, and any an earlier attempt left (those are looked up first)
  const open: { id: string; kind: Kind }[] = await db.query(
    `SELECT id::text, kind FROM wecom_mass_sends WHERE tenant_id = $1 AND status = 'creating' ORDER BY id`, [tenantId]);
  const reads: ImageReads = new Map(); // each image is read once this pass, whatever the number of templates
  for (const { id, kind } of open) {
    const created = kind === 'moment'
      ? await createMoment(db, client, id, now, deps, reads)
      : await db.transaction((m) => create(m, client, id, fresh.has(id), now, deps, reads));
    if (created) run.created++;
  }
  return run;
}

/**
 * One batch's intents (one row per 10,000 recipients) with their tasks linked, in one transaction. Tasks WeCom
 * cannot take are marked and left to the executor: no WeCom UserID for the executor or id for the customer or
 * group, or (1:1) a customer who already had WECOM_MASS_SENDS_PER_MONTH mass-sends handed over this month.
 */
async function recordIntent(m: Queryable, tenantId: string, batch: DueTask[], now: Date): Promise<{ ids: string[]; handed: number; limited: number }> {
  const first = batch[0];
  const kind = KIND_OF_CHANNEL[first.channel];
  const locked: { id: string }[] = await m.query(
    `SELECT id::text FROM tasks WHERE id = ANY($1::bigint[]) AND status = 'pending' AND wecom_send_state IS NULL ORDER BY id FOR UPDATE SKIP LOCKED`,
    [batch.map((t) => t.id)]);
  const lockedIds = new Set(locked.map((r) => r.id));
  const tasks = batch.filter((t) => lockedIds.has(t.id));
  if (!tasks.length) return { ids: [], handed: 0, limited: 0 };
  const mark = (ids: string[], state: string) => ids.length
    ? m.query(`UPDATE tasks SET wecom_send_state = $2 WHERE id = ANY($1::bigint[])`, [ids, state]) : Promise.resolve();

  const [member] = await m.query(
    `SELECT wecom_user_id FROM wecom_users WHERE tenant_id = $1 AND user_id = $2 AND active`, [tenantId, first.executor_id]);
  if (!member) {
    await mark(tasks.map((t) => t.id), 'no_wecom_id');
    return { ids: [], handed: 0, limited: 0 };
  }
  let targets = tasks;
  let limited: string[] = [];
  if (kind === 'single') {
    const ids: { id: string; contact_id: string }[] = await m.query(
      `SELECT t.id::text, t.contact_id FROM tasks t JOIN contacts c ON c.id = t.contact_id AND c.tenant_id = t.tenant_id
        WHERE t.id = ANY($1::bigint[]) AND c.wecom_external_user_id IS NOT NULL`, [tasks.map((t) => t.id)]);
    const known = new Set(ids.map((r) => r.id));
    await mark(tasks.filter((t) => !known.has(t.id)).map((t) => t.id), 'no_wecom_id');
    targets = tasks.filter((t) => known.has(t.id));
    limited = await overMonthlyLimit(m, tenantId, targets, now);
    await mark(limited, 'monthly_limit');
    targets = targets.filter((t) => !limited.includes(t.id));
  } else if (kind === 'group') {
    const ids: { id: string }[] = await m.query(
      `SELECT t.id::text FROM tasks t JOIN customer_groups g ON g.id = t.group_id AND g.tenant_id = t.tenant_id
        WHERE t.id = ANY($1::bigint[]) AND g.wecom_chat_id IS NOT NULL AND g.wecom_dismissed_at IS NULL`, [tasks.map((t) => t.id)]);
    const known = new Set(ids.map((r) => r.id));
    await mark(tasks.filter((t) => !known.has(t.id)).map((t) => t.id), 'no_wecom_id');
    targets = tasks.filter((t) => known.has(t.id));
  }
  const ids: string[] = [];
  const expiresAt = new Date(Math.max(first.due_until.getTime(), now.getTime()) + KEEP_POLLING_MS);
  // a Moments task names no customers (the post shows to the executor's): one per batch, however large
  const size = kind === 'moment' ? Math.max(targets.length, 1) : MAX_RECIPIENTS;
  for (let i = 0; i < targets.length; i += size) {
    const chunk = targets.slice(i, i + size);
    const [{ id }] = await m.query(
      `INSERT INTO wecom_mass_sends (tenant_id, kind, sop_id, sop_version_id, step_index, executor_id, sender, content, created_at, expires_at, next_poll_at, link_token)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9, $11) RETURNING id::text`,
      [tenantId, kind, first.sop_id, first.sop_version_id, first.step_index, first.executor_id, member.wecom_user_id, first.content, now, expiresAt,
        randomBytes(16).toString('base64url')]); // the secret of the template's tracked links (22 characters)
    await m.query(
      `UPDATE tasks SET wecom_mass_send_id = $2, wecom_send_state = 'handed', wecom_handed_at = $3 WHERE id = ANY($1::bigint[])`,
      [chunk.map((t) => t.id), id, now]);
    ids.push(id);
  }
  return { ids, handed: targets.length, limited: limited.length };
}

/**
 * WeCom lets a customer receive at most 4 enterprise 1:1 mass-sends a calendar month (per corporation). The tasks
 * (ids) whose customer already had that many handed over this month (China's calendar, as WeCom counts; waiting
 * or sent: a template closed unsent, refused or cancelled does not count), counting this batch's earlier tasks. The contacts' rows are locked first (by id, as the engine's cap pages do), so two
 * batches counting the same customer run one after the other.
 */
async function overMonthlyLimit(m: Queryable, tenantId: string, tasks: DueTask[], now: Date): Promise<string[]> {
  const contactIds = [...new Set(tasks.map((t) => t.contact_id!))];
  if (!contactIds.length) return [];
  await m.query(`SELECT count(*) FROM (SELECT id FROM contacts WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR NO KEY UPDATE) l`,
    [tenantId, contactIds]);
  const monthStart = DateTime.fromJSDate(now, { zone: 'Asia/Shanghai' }).startOf('month').toJSDate();
  const monthEnd = DateTime.fromJSDate(now, { zone: 'Asia/Shanghai' }).endOf('month').toJSDate();
  const counts: { contact_id: string; n: number }[] = await m.query(
    `SELECT contact_id, count(*)::int AS n FROM tasks
      WHERE tenant_id = $1 AND contact_id = ANY($2::uuid[]) AND channel = 'wecom_chat' AND wecom_handed_at >= $3 AND wecom_handed_at <= $4
        AND wecom_send_state IN ('handed', 'sent')
      GROUP BY contact_id`,
    [tenantId, contactIds, monthStart, monthEnd]);
  const had = new Map(counts.map((c) => [c.contact_id, c.n]));
  const over: string[] = [];
  for (const t of tasks) {
    const n = had.get(t.contact_id!) ?? 0;
    if (n >= WECOM_MASS_SENDS_PER_MONTH) over.push(t.id);
    else had.set(t.contact_id!, n + 1);
  }
  return over;
}

/**
 * Creates one template intent in WeCom, holding its row's lock for the call (a zombie attempt of the activity skips
 * it). An intent an earlier attempt left (`fresh` false) may already exist in WeCom: looked up first. True when created.
 */
async function create(m: Queryable, client: WecomClient, id: string, fresh: boolean, now: Date, deps: AttachmentDeps, reads: ImageReads): Promise<boolean> {
  const [row]: MassSendRow[] = await m.query(
    `SELECT id::text, tenant_id, kind, sender, content, msgid, jobid, moment_id, link_token, created_at, expires_at FROM wecom_mass_sends
      WHERE id = $1 AND status = 'creating' FOR UPDATE SKIP LOCKED`, [id]);
  if (!row) return false;
  const tasks: { id: string; external_userid: string | null; chat_id: string | null; materials: TaskMaterial[] }[] = await m.query(
    `SELECT t.id::text, c.wecom_external_user_id AS external_userid, g.wecom_chat_id AS chat_id, t.materials
       FROM tasks t LEFT JOIN contacts c ON c.id = t.contact_id LEFT JOIN customer_groups g ON g.id = t.group_id
      WHERE t.wecom_mass_send_id = $1 AND t.tenant_id = $2 ORDER BY t.id`, [row.id, row.tenant_id]);
  try {
    // images uploaded (or their kept media_id), links through the batch's tracked link: one template, one content for all
    const build = () => attachmentsFor(m, client, row, tasks[0]?.materials ?? [], deps, reads, now);
    const msgid = fresh ? null : await findCreated(m, client, row);
    if (msgid) {
      await m.query(`UPDATE wecom_mass_sends SET status = 'waiting', msgid = $2, next_poll_at = $3 WHERE id = $1`, [row.id, msgid, now]);
      return false;
    }
    const answer = await withLiveMedia(m, row.tenant_id, await build(), build, (attachments) => client.post('/cgi-bin/externalcontact/add_msg_template', row.kind === 'single'
      ? { chat_type: 'single', external_userid: tasks.map((t) => t.external_userid), sender: row.sender, text: { content: row.content }, attachments }
      : { chat_type: 'group', chat_id_list: tasks.map((t) => t.chat_id), sender: row.sender, text: { content: row.content }, attachments }));
    await m.query(`UPDATE wecom_mass_sends SET status = 'waiting', msgid = $2, next_poll_at = $3 WHERE id = $1`, [row.id, String(answer.msgid), now]);
    // customers WeCom would not take (not the sender's, say): left to the executor, not counted against their month
    const refused = Array.isArray(answer.fail_list) ? (answer.fail_list as string[]) : [];
    if (refused.length) {
      await m.query(
        `UPDATE tasks t SET wecom_send_state = 'not_friend', wecom_handed_at = NULL FROM contacts c
          WHERE t.wecom_mass_send_id = $1 AND c.id = t.contact_id AND c.wecom_external_user_id = ANY($2::text[])`, [row.id, refused]);
    }
    return true;
  } catch (err) {
    if ((err instanceof WecomApiError && !err.retryable) || err instanceof AttachmentRefused) {
      await fail(m, row.id, err.message);
      return false;
    }
    throw err; // out of reach or rate-limited: the intent stays, the activity is retried and looks it up first
  }
}

/** Rows of UPDATE … RETURNING through a CTE (TypeORM answers bare ones as [rows, count]). */
const returning = (m: Queryable, sql: string, params: unknown[]): Promise<any[]> => // eslint-disable-line @typescript-eslint/no-explicit-any
  m.query(`WITH changed AS (${sql}) SELECT * FROM changed`, params);

const NOT_REPEATED = 'an earlier attempt may have created this Moments task in WeCom; not repeated';

/**
 * Creates a Moments intent in WeCom. WeCom offers no lookup for a Moments task whose answer was lost, so the call is
 * recorded first (`attempted_at`, committed before the call): an intent found attempted and still `creating` is
 * failed, never repeated (at most once: the executor posts by hand); one never attempted (an earlier attempt stopped
 * before it) is simply sent. Its images are uploaded before the mark, so an upload out of reach leaves it never
 * attempted. A rate-limit answer means WeCom made nothing: the mark is taken back. The row is locked for the call,
 * so a zombie attempt of the activity skips it. True when created.
 */
async function createMoment(db: DataSource, client: WecomClient, id: string, now: Date, deps: AttachmentDeps, reads: ImageReads): Promise<boolean> {
  const [intent]: MassSendRow[] = await db.query(
    `SELECT id::text, tenant_id, kind, sender, content, link_token FROM wecom_mass_sends WHERE id = $1 AND status = 'creating' AND attempted_at IS NULL`, [id]);
  let attachments: Record<string, unknown>[] = [];
  if (intent) {
    const [first] = await db.query(`SELECT materials FROM tasks WHERE wecom_mass_send_id = $1 AND tenant_id = $2 ORDER BY id LIMIT 1`, [intent.id, intent.tenant_id]);
    try {
      attachments = await attachmentsFor(db, client, intent, first?.materials ?? [], deps, reads, now);
    } catch (err) {
      if (!(err instanceof AttachmentRefused) && !(err instanceof WecomApiError && !err.retryable)) throw err;
      await db.transaction((m) => fail(m, intent.id, err.message));
      return false;
    }
  }
  const [claimed] = await returning(db,
    `UPDATE wecom_mass_sends SET attempted_at = now() WHERE id = $1 AND status = 'creating' AND attempted_at IS NULL RETURNING id`, [id]);
  const outcome = await db.transaction(async (m): Promise<{ created: boolean; retry?: unknown }> => {
    const [row]: MassSendRow[] = await m.query(
      `SELECT id::text, tenant_id, kind, sender, content, link_token FROM wecom_mass_sends WHERE id = $1 AND status = 'creating' FOR UPDATE SKIP LOCKED`, [id]);
    if (!row) return { created: false }; // another attempt holds it, or it was settled meanwhile
    if (!claimed || !intent) {
      await fail(m, row.id, NOT_REPEATED);
      return { created: false };
    }
    const rebuild = async () => {
      const [first] = await m.query(`SELECT materials FROM tasks WHERE wecom_mass_send_id = $1 AND tenant_id = $2 ORDER BY id LIMIT 1`, [row.id, row.tenant_id]);
      return attachmentsFor(m, client, row, first?.materials ?? [], deps, reads, now);
    };
    try {
      const answer = await withLiveMedia(m, row.tenant_id, attachments, rebuild, (sent) => client.post('/cgi-bin/externalcontact/add_moment_task', {
        text: { content: row.content }, attachments: sent, visible_range: { sender_list: { user_list: [row.sender] } },
      }));
      await m.query(`UPDATE wecom_mass_sends SET status = 'waiting', jobid = $2, next_poll_at = $3 WHERE id = $1`, [row.id, String(answer.jobid), now]);
      return { created: true };
    } catch (err) {
      if ((err instanceof WecomApiError && !err.retryable) || err instanceof AttachmentRefused) {
        await fail(m, row.id, err.message);
        return { created: false };
      }
      // WeCom answered with a rate limit: it made nothing, the retry sends it. Out of reach: it may have, the mark stays.
      if (err instanceof WecomApiError) await m.query(`UPDATE wecom_mass_sends SET attempted_at = NULL WHERE id = $1`, [row.id]);
      return { created: false, retry: err };
    }
  });
  if (outcome.retry) throw outcome.retry; // the activity is retried (its other organizations go on first)
  return outcome.created;
}

/** WeCom's "invalid media_id": a kept image it no longer knows (its 3 days counted from a clock that differs from ours). */
const INVALID_MEDIA_ID = 40007;

/**
 * Sends with the attachments built; when WeCom answers that a media_id it was given is unknown, forgets the kept
 * media_ids of those attachments and sends once more with them uploaded again.
 */
async function withLiveMedia<T>(
  m: Queryable, tenantId: string, attachments: Record<string, unknown>[], rebuild: () => Promise<Record<string, unknown>[]>,
  send: (attachments: Record<string, unknown>[]) => Promise<T>,
): Promise<T> {
  try {
    return await send(attachments);
  } catch (err) {
    if (!(err instanceof WecomApiError) || err.errcode !== INVALID_MEDIA_ID) throw err;
    const mediaIds = attachments.map((a) => (a.image as { media_id?: string } | undefined)?.media_id).filter(Boolean);
    if (!mediaIds.length) throw err;
    await m.query(`DELETE FROM wecom_media WHERE tenant_id = $1 AND media_id = ANY($2::text[])`, [tenantId, mediaIds]);
    return send(await rebuild());
  }
}

/** WeCom refused: the intent fails and its tasks are left to the executor by hand (not counted in any month). */
async function fail(m: Queryable, id: string, error: string): Promise<void> {
  await m.query(`UPDATE wecom_mass_sends SET status = 'failed', error = $2, finished_at = now() WHERE id = $1`, [id, error]);
  await m.query(`UPDATE tasks SET wecom_send_state = 'failed', wecom_handed_at = NULL WHERE wecom_mass_send_id = $1`, [id]);
}

/** A template WeCom already holds for this intent (same sender and text, made since the intent), not claimed by another. */
async function findCreated(m: Queryable, client: WecomClient, row: MassSendRow): Promise<string | null> {
  const start = Math.floor(row.created_at.getTime() / 1000) - 60;
  let cursor = '';
  do {
    const page = await client.post<WecomAnswer & { group_msg_list?: { msgid: string; creator?: string; text?: { content?: string } }[]; next_cursor?: string }>(
      '/cgi-bin/externalcontact/get_groupmsg_list_v2',
      { chat_type: row.kind, start_time: start, end_time: Math.max(start + 120, Math.floor(Date.now() / 1000) + 60), creator: [row.sender], filter_type: 2, limit: 100, cursor });
    for (const msg of page.group_msg_list ?? []) {
      if (msg.text?.content !== row.content) continue;
      const [claimed] = await m.query(`SELECT 1 FROM wecom_mass_sends WHERE tenant_id = $1 AND msgid = $2`, [row.tenant_id, msg.msgid]);
      if (!claimed) return msg.msgid;
    }
    cursor = page.next_cursor ?? '';
  } while (cursor);
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading back

async function pollAll(db: DataSource, client: WecomClient, tenantId: string, now: Date): Promise<MassSendRun> {
  const run = empty();
  const due: { id: string }[] = await db.query(
    `SELECT id::text FROM wecom_mass_sends WHERE tenant_id = $1 AND status = 'waiting' AND next_poll_at <= $2 ORDER BY next_poll_at, id`, [tenantId, now]);
  for (const { id } of due) {
    const [row]: MassSendRow[] = await db.query(
      `SELECT id::text, tenant_id, kind, sender, content, msgid, jobid, moment_id, link_token, created_at, expires_at FROM wecom_mass_sends WHERE id = $1`, [id]);
    let result: PollResult;
    try {
      result = row.kind === 'moment' ? await pollMoment(db, client, row, now) : await pollTemplate(db, client, row, now);
    } catch (err) {
      if (transient(err)) throw err; // out of reach, rate-limited, our database: the activity is retried
      await refusedRead(db, row, now, err); // recorded on the row; the templates after it are read all the same
      continue;
    }
    run.polled++;
    run.sent += result.sent;
    run.cancelled += result.cancelled;
  }
  return run;
}

interface PollResult {
  sent: number;
  cancelled: number;
}

/** Tasks of the template WeCom has not settled yet (pending, handed over). */
const openTasksSql = `SELECT t.id::text, t.tenant_id, t.sop_id, t.step_index, t.contact_id, c.wecom_external_user_id AS external_userid, g.wecom_chat_id AS chat_id
   FROM tasks t LEFT JOIN contacts c ON c.id = t.contact_id LEFT JOIN customer_groups g ON g.id = t.group_id
  WHERE t.wecom_mass_send_id = $1 AND t.status = 'pending' AND t.wecom_send_state = 'handed'`;

async function pollTemplate(db: DataSource, client: WecomClient, row: MassSendRow, now: Date): Promise<PollResult> {
  let senderStatus: number | undefined;
  const results = new Map<string, { status: number; send_time?: number }>();
  try {
    for await (const item of pages(client, '/cgi-bin/externalcontact/get_groupmsg_task', { msgid: row.msgid, limit: 1000 }, 'task_list')) {
      if (item.userid === row.sender) senderStatus = Number(item.status);
    }
    const open: { id: string }[] = await db.query(openTasksSql, [row.id]);
    if (!open.length && senderStatus !== 2) return cancel(db, client, row);
    for await (const item of pages(client, '/cgi-bin/externalcontact/get_groupmsg_send_result', { msgid: row.msgid, userid: row.sender, limit: 1000 }, 'send_list')) {
      results.set(String(row.kind === 'single' ? item.external_userid : item.chat_id), { status: Number(item.status), send_time: Number(item.send_time ?? 0) || undefined });
    }
  } catch (err) {
    if (err instanceof WecomApiError && err.errcode === DISPATCHING) {
      await db.query(`UPDATE wecom_mass_sends SET next_poll_at = $2 WHERE id = $1`, [row.id, new Date(now.getTime() + POLL_EVERY_MS)]);
      return { sent: 0, cancelled: 0 };
    }
    throw err;
  }
  return db.transaction(async (m) => {
    const open = await m.query(`${openTasksSql} ORDER BY t.id FOR UPDATE OF t`, [row.id]);
    let sent = 0;
    for (const task of open) {
      const r = results.get(String(row.kind === 'single' ? task.external_userid : task.chat_id));
      if (r?.status === 1) {
        await completeTaskWithOutcome(m, task, 'sent', {
          detail: { via: 'wecom_mass_send', msgid: row.msgid }, at: r.send_time ? new Date(r.send_time * 1000) : undefined });
        await m.query(`UPDATE tasks SET wecom_send_state = 'sent' WHERE id = $1`, [task.id]);
        sent++;
      } else if (r?.status === 2 || r?.status === 3) {
        // 2: not (any longer) the sender's customer; 3: the customer had this month's sends from the corporation
        await m.query(`UPDATE tasks SET wecom_send_state = $2, wecom_handed_at = NULL WHERE id = $1`, [task.id, r.status === 2 ? 'not_friend' : 'monthly_limit']);
      }
    }
    await settle(m, row, now, senderStatus === 2);
    return { sent, cancelled: 0 };
  });
}

/**
 * Final (the executor sent it) or expired: the row is closed and what is still handed over is left unsent; else
 * looked at again. A read that got this far was answered: earlier refusals are forgotten.
 */
async function settle(m: Queryable, row: MassSendRow, now: Date, final: boolean): Promise<void> {
  const expired = !final && now >= row.expires_at;
  if (final || expired) {
    await m.query(`UPDATE wecom_mass_sends SET status = $2, finished_at = $3, poll_refusals = 0, error = NULL WHERE id = $1`, [row.id, final ? 'finished' : 'expired', now]);
    await unsent(m, row.id);
  } else {
    await m.query(`UPDATE wecom_mass_sends SET next_poll_at = $2, poll_refusals = 0, error = NULL WHERE id = $1`, [row.id, new Date(now.getTime() + POLL_EVERY_MS)]);
  }
}

/**
 * WeCom refused to read the row back (or answered what we cannot use): the refusal is kept on the row (`error`,
 * `poll_refusals`) and said on the connection's status, and the row is read again after a backoff; after
 * MAX_POLL_REFUSALS in a row (or once it expired) it is given up (`failed`): its tasks still handed over are left to
 * the executor by hand (`failed`, with the row's reason), and not counted in the customers' month.
 */
async function refusedRead(db: DataSource, row: MassSendRow, now: Date, err: unknown): Promise<void> {
  const reason = `WeCom refused to read it back: ${err instanceof Error ? err.message : String(err)}`.slice(0, 1000);
  await db.transaction(async (m) => {
    const [counted] = await returning(m,
      `UPDATE wecom_mass_sends SET poll_refusals = poll_refusals + 1, error = $2 WHERE id = $1 AND status = 'waiting' RETURNING poll_refusals`, [row.id, reason]);
    if (!counted) return;
    if (counted.poll_refusals >= MAX_POLL_REFUSALS || now >= row.expires_at) {
      await m.query(`UPDATE wecom_mass_sends SET status = 'failed', finished_at = $2 WHERE id = $1`, [row.id, now]);
      await m.query(`UPDATE tasks SET wecom_send_state = 'failed', wecom_handed_at = NULL WHERE wecom_mass_send_id = $1 AND wecom_send_state = 'handed'`, [row.id]);
    } else {
      await m.query(`UPDATE wecom_mass_sends SET next_poll_at = $2 WHERE id = $1`, [row.id, new Date(now.getTime() + refusalBackoffMs(counted.poll_refusals))]);
    }
  });
  await recordConnectionError(db, row.tenant_id, new Error(`${row.kind === 'moment' ? 'Moments task' : 'template'} ${row.msgid ?? row.jobid}: ${reason}`));
}

/** What a closed template did not send: the executor's by hand, and not one of the customer's sends this month. */
const unsent = (m: Queryable, id: string) => m.query(
  `UPDATE tasks SET wecom_send_state = 'unsent', wecom_handed_at = NULL WHERE wecom_mass_send_id = $1 AND wecom_send_state = 'handed'`, [id]);

/** Nothing is left for an unsent template to do (its tasks were cancelled, or done by hand): WeCom stops offering it. */
async function cancel(db: DataSource, client: WecomClient, row: MassSendRow): Promise<PollResult> {
  if (row.kind === 'moment') await client.post('/cgi-bin/externalcontact/cancel_moment_task', { moment_id: row.moment_id });
  else await client.post('/cgi-bin/externalcontact/cancel_groupmsg_send', { msgid: row.msgid });
  await db.query(`UPDATE wecom_mass_sends SET status = 'cancelled', finished_at = now() WHERE id = $1`, [row.id]);
  await unsent(db, row.id);
  return { sent: 0, cancelled: 1 };
}

async function pollMoment(db: DataSource, client: WecomClient, row: MassSendRow, now: Date): Promise<PollResult> {
  if (!row.moment_id) {
    const job = await client.get<WecomAnswer & { status?: number; result?: { errcode?: number; errmsg?: string; moment_id?: string } }>(
      '/cgi-bin/externalcontact/get_moment_task_result', { jobid: String(row.jobid) });
    if (job.status !== 3) {
      await db.query(`UPDATE wecom_mass_sends SET next_poll_at = $2 WHERE id = $1`, [row.id, new Date(now.getTime() + POLL_EVERY_MS)]);
      return { sent: 0, cancelled: 0 };
    }
    if (job.result?.errcode || !job.result?.moment_id) {
      await db.transaction((m) => fail(m, row.id, `WeCom did not create the Moments task: ${job.result?.errcode} ${job.result?.errmsg ?? ''}`.trim()));
      return { sent: 0, cancelled: 0 };
    }
    row.moment_id = job.result.moment_id;
    await db.query(`UPDATE wecom_mass_sends SET moment_id = $2 WHERE id = $1`, [row.id, row.moment_id]);
  }
  let published = false;
  for await (const item of pages(client, '/cgi-bin/externalcontact/get_moment_task', { moment_id: row.moment_id, limit: 1000 }, 'task_list')) {
    if (item.userid === row.sender && Number(item.publish_status) === 1) published = true;
  }
  const open: { id: string }[] = await db.query(openTasksSql, [row.id]);
  if (!open.length && !published) return cancel(db, client, row);
  return db.transaction(async (m) => {
    let sent = 0;
    if (published) {
      for (const task of await m.query(`${openTasksSql} ORDER BY t.id FOR UPDATE OF t`, [row.id])) {
        await completeTaskWithOutcome(m, task, 'sent', { detail: { via: 'wecom_moment', momentId: row.moment_id } });
        await m.query(`UPDATE tasks SET wecom_send_state = 'sent' WHERE id = $1`, [task.id]);
        sent++;
      }
    }
    await settle(m, row, now, published);
    return { sent, cancelled: 0 };
  });
}

/** Every item of a cursor-paged WeCom list (POST with `cursor`, answered with `next_cursor`). */
async function* pages(client: WecomClient, path: string, body: Record<string, unknown>, list: string): AsyncGenerator<Record<string, unknown>> {
  let cursor = '';
  do {
    const page = await client.post(path, { ...body, cursor });
    for (const item of (page[list] as Record<string, unknown>[] | undefined) ?? []) yield item;
    cursor = typeof page.next_cursor === 'string' ? page.next_cursor : '';
  } while (cursor);
}
