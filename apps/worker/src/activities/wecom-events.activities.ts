import { arriveThroughCode, changeTags, contactsChanged, findSourceCode, type Queryable, recordResponse, type SourceCodeRow } from '@sop/engine';
import { WecomApiError, type WecomAccess, type WecomAnswer, type WecomClient } from '@sop/wecom';
import type { WecomEventsActivities } from '@sop/workflows';
import type { DataSource } from 'typeorm';
import { heartbeating } from './heartbeating';
import { asWecomOrigin, inPool, markUnconnected, PENDING_GROUP_RENAME, PENDING_TAG_RENAME, pushContactTags, pushCorpTagOps } from './wecom-tag-push';

/**
 * Applies the WeCom callback events the API kept (issue 16): contacts added, edited and deleted either way,
 * customer groups and their members, corp tags. What an event needs from WeCom (the contact, the chat, the
 * tags) is fetched first, outside any transaction; then one transaction per batch applies the events in id
 * order (an event that fails is recorded as its error, see applyBatch) and sets their processed_at with each
 * one's outcome or error; the contacts they changed have their computed tags and segments evaluated once, at the batch's end. A batch that
 * fails or a worker that dies re-applies nothing: the rows are locked and re-read as unprocessed first.
 */

interface EventRow {
  id: string;
  event: string;
  change_type: string | null;
  payload: Record<string, unknown>;
}

/** What WeCom answered for an event (externalcontact/get, groupchat/get or get_corp_tag_list); null when nothing is needed. */
type Fetched = WecomAnswer | null;

interface FollowUser {
  userid: string;
  state?: string;
  createtime?: number;
  tags?: { tag_id: string; type: number }[];
}

interface CorpTagGroup {
  group_id: string;
  group_name: string;
  order?: number;
  tag?: { id: string; name: string; order?: number }[];
}

/**
 * Rows an UPDATE or DELETE ... RETURNING gives back (TypeORM answers those with [rows, count], so the statement
 * runs as a CTE and its rows are selected).
 */
const returning = (m: Queryable, sql: string, params: unknown[]): Promise<any[]> => // eslint-disable-line @typescript-eslint/no-explicit-any
  m.query(`WITH changed AS (${sql}) SELECT * FROM changed`, params);

/** The event cannot be applied (unknown to WeCom, not connected): recorded as its error, never retried. */
class Unappliable extends Error {}

/** Tag changes that apply WeCom's state: the push trigger queues nothing for them (they are WeCom's already). */
export const WECOM_ACTOR = { type: 'system' as const, id: 'wecom' };

/** The tag every contact who deleted an employee gets (kind 'behaviour', in the group "企业微信"). */
export const DELETED_EMPLOYEE_TAG = { group: '企业微信', name: '删除了员工' } as const;

export function wecomEventsActivities(db: DataSource, wecom?: WecomAccess): WecomEventsActivities {
  return {
    applyWecomEvents: ({ tenantId, batchSize = 200 }) => heartbeating(async () => {
      const events = await applyEvents(db, wecom, tenantId, batchSize);
      // then our own tag changes go to WeCom, after WeCom's (wecom-tag-push.ts)
      const pushed = await pushTags(db, wecom, tenantId, batchSize);
      return { applied: events.applied, failed: events.failed, more: events.more || pushed.more };
    }),
  };
}

async function applyEvents(db: DataSource, wecom: WecomAccess | undefined, tenantId: string, batchSize: number) {
  const rows: EventRow[] = await db.query(
    // ORDER BY e.id, the number: a bare "id" would sort the text column of the select list ('100' before '99')
    `SELECT e.id::text, e.event, e.change_type, e.payload FROM wecom_callback_events e
      WHERE e.tenant_id = $1 AND e.processed_at IS NULL ORDER BY e.id LIMIT $2`,
    [tenantId, batchSize]);
  if (!rows.length) return { applied: 0, failed: 0, more: false };
  const client = await clientOf(db, wecom, tenantId);
  const prepared: { row: EventRow; fetched?: Fetched; error?: string }[] = [];
  let transient: Error | null = null;
  // fetched FETCHES_AT_ONCE at a time, kept in id order up to the first that WeCom could not answer for now
  const settled = await inPool(rows, FETCHES_AT_ONCE, (row) => prefetch(client, row));
  for (const [i, result] of settled.entries()) {
    if (result.status === 'fulfilled') {
      prepared.push({ row: rows[i], fetched: result.value });
      continue;
    }
    const err = result.reason as Error;
    if (!(err instanceof Unappliable) && !(err instanceof WecomApiError && !err.retryable)) {
      transient = err; // WeCom out of reach or rate-limited past the client's retries: apply what came before, retry the rest
      break;
    }
    prepared.push({ row: rows[i], error: err.message });
  }
  const counts = await applyBatch(db, tenantId, prepared);
  if (transient) throw transient;
  return { ...counts, more: rows.length === batchSize };
}

/** Tag definitions, then contacts' tags, to WeCom; nothing to do is one cheap read each. */
async function pushTags(db: DataSource, wecom: WecomAccess | undefined, tenantId: string, batchSize: number): Promise<{ more: boolean }> {
  const [waiting] = await db.query(
    `SELECT EXISTS (SELECT 1 FROM wecom_corp_tag_ops WHERE tenant_id = $1 AND done_at IS NULL) AS ops,
            EXISTS (SELECT 1 FROM wecom_tag_pushes WHERE tenant_id = $1 AND error IS NULL) AS contacts`, [tenantId]);
  if (!waiting.ops && !waiting.contacts) return { more: false };
  const client = await clientOf(db, wecom, tenantId);
  if (!client) {
    await markUnconnected(db, tenantId);
    return { more: false };
  }
  const ops: { more: boolean; retry?: Error } = waiting.ops ? await pushCorpTagOps(db, client, tenantId) : { more: false };
  if (ops.more) return { more: true };
  const contacts = await pushContactTags(db, client, tenantId, batchSize);
  // a tag operation to try again: the contacts' pushes went meanwhile; Temporal's retry (with backoff) tries it again
  if (ops.retry) throw ops.retry;
  return { more: contacts.more };
}

/** Calls to WeCom at once while a batch is prepared (WeCom's per-app limits are far above a tenant's event rate). */
const FETCHES_AT_ONCE = 8;

/** Null when the tenant has no connection (events needing WeCom then fail); throws when this worker cannot open connections. */
async function clientOf(db: DataSource, wecom: WecomAccess | undefined, tenantId: string): Promise<WecomClient | null> {
  if (!wecom) throw new Error('this worker has no WeCom access (WECOM_SECRET_KEYS): WeCom events wait');
  const connection = await wecom.connection(db, tenantId);
  return connection ? wecom.contacts(connection) : null;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
/** fast-xml-parser gives one <Item> as a string and several as an array. */
const items = (list: unknown): string[] => {
  const item = (list as { Item?: unknown } | undefined)?.Item;
  return (Array.isArray(item) ? item : item === undefined ? [] : [item]).map(text).filter(Boolean);
};

/** What the event needs from WeCom, fetched before the transaction. */
async function prefetch(client: WecomClient | null, row: EventRow): Promise<Fetched> {
  const p = row.payload;
  const need = (): WecomClient => {
    if (!client) throw new Unappliable('the tenant has no WeCom connection');
    return client;
  };
  switch (`${row.event}:${row.change_type}`) {
    case 'change_external_contact:add_external_contact':
    case 'change_external_contact:add_half_external_contact':
    case 'change_external_contact:edit_external_contact':
      return need().get('/cgi-bin/externalcontact/get', { external_userid: text(p.ExternalUserID) });
    case 'change_external_chat:create':
    case 'change_external_chat:update':
      return need().post('/cgi-bin/externalcontact/groupchat/get', { chat_id: text(p.ChatId), need_name: 1 });
    case 'change_external_tag:create':
    case 'change_external_tag:update':
      if (p.StrategyId) return null; // a rule-group (strategy) tag: not followed, see apply
      return need().post('/cgi-bin/externalcontact/get_corp_tag_list', p.TagType === 'tag_group' ? { group_id: [text(p.Id)] } : { tag_id: [text(p.Id)] });
    case 'change_external_tag:shuffle':
      return need().post('/cgi-bin/externalcontact/get_corp_tag_list', {});
    default:
      return null;
  }
}

type Prepared = { row: EventRow; fetched?: Fetched; error?: string };

/** An event failed while the batch ran without savepoints: the batch is applied again, each event under one. */
class EventFailed extends Error {}

/**
 * One transaction for the batch. Events seldom fail, so it first runs without a savepoint per event (two round
 * trips each saved); when one fails, that transaction is rolled back and the batch applied again with a
 * savepoint around each event, so the failure is recorded as the event's error and the others are kept.
 */
async function applyBatch(db: DataSource, tenantId: string, prepared: Prepared[]): Promise<{ applied: number; failed: number }> {
  try {
    return await db.transaction((m) => applyAll(m, tenantId, prepared, false));
  } catch (err) {
    if (!(err instanceof EventFailed)) throw err;
    return db.transaction((m) => applyAll(m, tenantId, prepared, true));
  }
}

async function applyAll(m: Queryable, tenantId: string, prepared: Prepared[], isolated: boolean) {
  const counts = { applied: 0, failed: 0 };
  if (!prepared.length) return counts;
  // WeCom's own changes to tag definitions: the triggers queue nothing to send back (no echo)
  await asWecomOrigin(m);
  const batch: Batch = { touched: new Set(), members: new Map(), codes: new Map() };
  // Locked and re-read: an attempt that committed this batch already (a retry after a lost answer) leaves nothing to do.
  const open = new Set<string>((await m.query(
    `SELECT e.id::text FROM wecom_callback_events e WHERE e.tenant_id = $1 AND e.id = ANY($2::bigint[]) AND e.processed_at IS NULL ORDER BY e.id FOR UPDATE`,
    [tenantId, prepared.map((p) => p.row.id)])).map((r: { id: string }) => r.id));
  const done: { id: string; outcome: string | null; error: string | null }[] = [];
  for (let i = 0; i < prepared.length; i++) {
    const p = prepared[i];
    if (!open.has(p.row.id)) continue;
    // contacts added or edited one after another: together, a few statements for the run (contactRun)
    const run = isolated || p.error ? null : contactRun(prepared, i, open);
    if (run && run.events.length > 1) {
      let outcomes: string[];
      try {
        outcomes = await contactsFromWecom(m, tenantId, run.events.map((e) => e.event), batch);
      } catch (err) {
        throw new EventFailed((err as Error).message);
      }
      for (const [k, e] of run.events.entries()) done.push({ id: e.row.id, outcome: outcomes[k], error: null });
      for (const e of run.failed) done.push({ id: e.row.id, outcome: null, error: e.error! });
      counts.applied += run.events.length;
      counts.failed += run.failed.length;
      i = run.end - 1;
      continue;
    }
    let outcome: string | null = null;
    let error = p.error ?? null;
    if (!error) {
      if (isolated) await m.query('SAVEPOINT wecom_event');
      try {
        outcome = await applyEvent(m, tenantId, p.row, p.fetched ?? null, batch);
        if (isolated) await m.query('RELEASE SAVEPOINT wecom_event');
      } catch (err) {
        if (!isolated) throw new EventFailed((err as Error).message);
        await m.query('ROLLBACK TO SAVEPOINT wecom_event');
        error = (err as Error).message;
      }
    }
    done.push({ id: p.row.id, outcome, error });
    counts[error ? 'failed' : 'applied']++;
  }
  await m.query(
    `UPDATE wecom_callback_events e SET processed_at = now(), outcome = d.outcome, error = d.error
       FROM unnest($2::bigint[], $3::text[], $4::text[]) AS d(id, outcome, error)
      WHERE e.tenant_id = $1 AND e.id = d.id`,
    [tenantId, done.map((d) => d.id), done.map((d) => d.outcome), done.map((d) => d.error)]);
  if (batch.touched.size) await contactsChanged(m, tenantId, [...batch.touched]);
  return counts;
}

/** A contact added or edited, as contactsFromWecom takes it. */
interface ContactEvent { wecomUserId: string; answer: WecomAnswer; added: boolean }

const CONTACT_UPSERTS = new Set(['add_external_contact', 'add_half_external_contact', 'edit_external_contact']);

/** The contact event `p` is, when it is one and WeCom's answer names the contact; else null. */
function contactEvent(p: Prepared): (ContactEvent & { externalUserId: string }) | null {
  if (p.row.event !== 'change_external_contact' || !CONTACT_UPSERTS.has(p.row.change_type ?? '') || !p.fetched) return null;
  const externalUserId = (p.fetched.external_contact as { external_userid?: unknown } | undefined)?.external_userid;
  if (typeof externalUserId !== 'string') return null;
  return { wecomUserId: text(p.row.payload.UserID), answer: p.fetched, added: p.row.change_type !== 'edit_external_contact', externalUserId };
}

/**
 * The events from `start` on that are contacts added or edited, each for another contact, up to the first event
 * of another kind or for a contact already in the run (its second event must see the first one's result). Events
 * already recorded as failed (`error`, nothing to apply) and ones another attempt committed (not `open`) do not end
 * it. Applied together they change the same rows as one at a time in id order: each event's statements touch only
 * its own contact (and its follows), so only one contact's events need their order, and they are never in one run.
 */
function contactRun(prepared: Prepared[], start: number, open: Set<string>) {
  const events: (Prepared & { event: ContactEvent })[] = [];
  const failed: Prepared[] = [];
  const contacts = new Set<string>();
  let end = start;
  for (; end < prepared.length; end++) {
    const p = prepared[end];
    if (!open.has(p.row.id)) continue;
    if (p.error) {
      failed.push(p);
      continue;
    }
    const event = contactEvent(p);
    if (!event || contacts.has(event.externalUserId)) break;
    contacts.add(event.externalUserId);
    events.push({ ...p, event });
  }
  return { events, failed, end };
}

interface Member { userId: string | null; known: boolean }

/** What the events of one batch's transaction share; a new one for each transaction (the isolated re-run too). */
interface Batch {
  /** contacts whose data changed: computed tags and segments follow once for the batch, at its end */
  touched: Set<string>;
  /** members read, by WeCom user id, once each: no event changes wecom_users, and most name the same few */
  members: Map<string, Promise<Member>>;
  /** source codes read, by code, once each: no event changes source_codes */
  codes: Map<string, Promise<SourceCodeRow | null>>;
}

/** Applies one event in the caller's transaction; says what it did. */
async function applyEvent(m: Queryable, tenantId: string, row: EventRow, fetched: Fetched, batch: Batch): Promise<string> {
  const p = row.payload;
  switch (row.event) {
    case 'change_external_contact':
      switch (row.change_type) {
        case 'add_external_contact':
        case 'add_half_external_contact':
        case 'edit_external_contact':
          return (await contactsFromWecom(m, tenantId, [{ wecomUserId: text(p.UserID), answer: fetched!, added: row.change_type !== 'edit_external_contact' }], batch))[0];
        case 'del_external_contact':
          return employeeDeletedContact(m, tenantId, text(p.UserID), text(p.ExternalUserID), batch);
        case 'del_follow_user':
          return contactDeletedEmployee(m, tenantId, text(p.UserID), text(p.ExternalUserID));
        default:
          return `ignored: change type ${row.change_type}`;
      }
    case 'change_external_chat':
      if (row.change_type === 'dismiss') return chatDismissed(m, tenantId, text(p.ChatId), batch.touched);
      if (row.change_type === 'create' || row.change_type === 'update') return chatChanged(m, tenantId, p, fetched!, batch);
      return `ignored: change type ${row.change_type}`;
    case 'change_external_tag':
      if (p.StrategyId) return 'ignored: rule-group (strategy) tags are not followed';
      if (row.change_type === 'delete') return corpTagDeleted(m, tenantId, text(p.TagType), text(p.Id));
      if (row.change_type === 'create' || row.change_type === 'update' || row.change_type === 'shuffle') {
        const groups = (fetched!.tag_group ?? []) as CorpTagGroup[];
        const n = await upsertCorpTags(m, tenantId, groups);
        return `${row.change_type}: ${n.groups} tag groups, ${n.tags} tags followed`;
      }
      return `ignored: change type ${row.change_type}`;
    default:
      return `ignored: event ${row.event}`;
  }
}

/** Our user matched to a WeCom member, read once per batch; `known` false when the member is not in wecom_users (yet). */
function memberUser(m: Queryable, tenantId: string, wecomUserId: string, batch: Batch): Promise<Member> {
  let member = batch.members.get(wecomUserId);
  if (!member) {
    member = m.query(`SELECT user_id FROM wecom_users WHERE tenant_id = $1 AND wecom_user_id = $2`, [tenantId, wecomUserId])
      .then(([row]: { user_id: string | null }[]) => ({ userId: row?.user_id ?? null, known: Boolean(row) }));
    batch.members.set(wecomUserId, member);
    member.catch(() => batch.members.delete(wecomUserId)); // a failed read (its event rolled back to its savepoint) is not kept
  }
  return member;
}

const ownerNote = (wecomUserId: string, member: Member) =>
  member.userId ? '' : member.known ? `; member ${wecomUserId} is matched to no user` : `; member ${wecomUserId} is unknown`;

/**
 * Added or edited: the contact upserted by its external_userid (name; owner = our user matched to the
 * employee, when it has none), the corp tags of all its follow users mapped to ours (an edit also removes
 * WeCom-linked tags WeCom no longer shows); an add whose State is one of the tenant's source codes arrives
 * through that code (its tags, its owner when none, a 'joined' response). Several events, each for another
 * contact (contactRun), share the upsert and the follows' statement; the rest follows per event, in their order.
 * Says what each did.
 */
async function contactsFromWecom(m: Queryable, tenantId: string, events: ContactEvent[], batch: Batch): Promise<string[]> {
  const members: Member[] = [];
  for (const e of events) members.push(await memberUser(m, tenantId, e.wecomUserId, batch));
  const ecs = events.map((e) => e.answer.external_contact as { external_userid: string; name?: string });
  const upserted: { id: string; u: string; created: boolean }[] = await m.query(
    `INSERT INTO contacts (tenant_id, external_id, name, owner_id, wecom_external_user_id)
     SELECT $1, 'wecom:' || x.u, x.n, x.o, x.u FROM unnest($2::text[], $3::text[], $4::uuid[]) WITH ORDINALITY AS x(u, n, o, i) ORDER BY x.i
     ON CONFLICT (tenant_id, wecom_external_user_id) WHERE wecom_external_user_id IS NOT NULL DO UPDATE SET
       name = coalesce(nullif(EXCLUDED.name, ''), contacts.name), owner_id = coalesce(contacts.owner_id, EXCLUDED.owner_id), updated_at = now()
     RETURNING id, wecom_external_user_id AS u, (xmax = 0) AS created`,
    [tenantId, ecs.map((ec) => ec.external_userid), ecs.map((ec) => ec.name ?? ''), members.map((member) => member.userId)]);
  const byExternalId = new Map(upserted.map((r) => [r.u, { id: r.id, created: r.created }]));
  await keepFollows(m, tenantId, events.map((e, i) => ({ externalUserId: ecs[i].external_userid, follows: (e.answer.follow_user ?? []) as FollowUser[] })));
  const outcomes: string[] = [];
  for (const [i, e] of events.entries()) {
    outcomes.push(await contactTagsAndCode(m, tenantId, e, members[i], byExternalId.get(ecs[i].external_userid)!, batch));
  }
  return outcomes;
}

/** An added or edited contact, upserted: WeCom's corp tags, then the source code of its State; what the event did. */
async function contactTagsAndCode(
  m: Queryable, tenantId: string, { wecomUserId, answer, added }: ContactEvent, member: Member, contact: { id: string; created: boolean }, batch: Batch,
): Promise<string> {
  const follows = (answer.follow_user ?? []) as FollowUser[];
  const wecomTagIds = [...new Set(follows.flatMap((f) => (f.tags ?? []).filter((t) => t.type === 1).map((t) => t.tag_id)))];
  // While our own tag change for this contact waits to be marked in WeCom, WeCom's answer predates it: its tags are
  // not applied at all, so they neither remove ours nor bring back one we removed. The push makes WeCom agree (the
  // follows kept above are what it compares with); a later event or the sync brings WeCom's later changes.
  // (a contact added with no corp tag has none to apply: neither read is needed)
  const [pending] = added && !wecomTagIds.length ? []
    : await m.query(`SELECT 1 FROM wecom_tag_pushes WHERE tenant_id = $1 AND contact_id = $2 AND error IS NULL`, [tenantId, contact.id]);
  const mapped: string[] = pending || !wecomTagIds.length ? [] : (await m.query(`SELECT id FROM tags WHERE tenant_id = $1 AND wecom_tag_id = ANY($2::text[])`, [tenantId, wecomTagIds]))
    .map((r: { id: string }) => r.id);
  const stale: string[] = added || pending ? [] : (await m.query(
    `SELECT t.id FROM contact_tags ct JOIN tags t ON t.tenant_id = ct.tenant_id AND t.id = ct.tag_id
      WHERE ct.tenant_id = $1 AND ct.contact_id = $2 AND t.wecom_tag_id IS NOT NULL AND NOT (t.wecom_tag_id = ANY($3::text[]))`,
    [tenantId, contact.id, wecomTagIds])).map((r: { id: string }) => r.id);
  if (mapped.length || stale.length) {
    await changeTags(m, tenantId, [contact.id], { add: mapped, remove: stale, reason: 'WeCom corp tags' }, WECOM_ACTOR);
  }
  let via = '';
  const state = follows.find((f) => f.userid === wecomUserId)?.state;
  const code = added && state ? await sourceCode(m, tenantId, state, batch) : null;
  if (code) {
    await arriveThroughCode(m, tenantId, code, contact);
    await recordResponse(m, tenantId, { contactId: contact.id, kind: 'joined', source: 'event', data: { code: code.code, created: contact.created, via: 'wecom' } });
    via = `; arrived through code ${code.code}`;
  } else {
    batch.touched.add(contact.id);
  }
  const unknownTags = pending ? 0 : wecomTagIds.length - mapped.length;
  return `contact ${contact.id} ${contact.created ? 'created' : 'updated'}${ownerNote(wecomUserId, member)}${via}`
    + `${state && !code ? `; state ${state} is no source code` : ''}${unknownTags ? `; ${unknownTags} corp tags not followed yet` : ''}`
    + `${pending ? '; tags left as they are: our change waits to be sent to WeCom' : ''}`;
}

/** A source code by its code, read once per batch. */
function sourceCode(m: Queryable, tenantId: string, code: string, batch: Batch): Promise<SourceCodeRow | null> {
  let row = batch.codes.get(code);
  if (!row) {
    row = findSourceCode(m, tenantId, code);
    batch.codes.set(code, row);
  }
  return row;
}

/** The follows as WeCom answered them (member, when added, corp tags), so our tag pushes compare with WeCom's state; one statement for all the contacts given. */
async function keepFollows(m: Queryable, tenantId: string, contacts: { externalUserId: string; follows: FollowUser[] }[]): Promise<void> {
  const rows = contacts.flatMap(({ externalUserId, follows }) => follows.map((f) => ({ externalUserId, f })));
  if (!rows.length) return;
  await m.query(
    `INSERT INTO wecom_follows (tenant_id, external_user_id, wecom_user_id, followed_at, tag_ids)
     SELECT $1, x.e, x.u, to_timestamp(x.t), coalesce((SELECT array_agg(v) FROM jsonb_array_elements_text(x.tags) v), '{}')
       FROM unnest($2::text[], $3::text[], $4::float8[], $5::jsonb[]) AS x(e, u, t, tags)
     ON CONFLICT (tenant_id, external_user_id, wecom_user_id) DO UPDATE SET tag_ids = EXCLUDED.tag_ids`,
    [tenantId, rows.map((r) => r.externalUserId), rows.map((r) => r.f.userid), rows.map((r) => r.f.createtime ?? 0),
      rows.map((r) => JSON.stringify((r.f.tags ?? []).filter((t) => t.type === 1).map((t) => t.tag_id)))]);
}

async function contactByExternalUserId(m: Queryable, tenantId: string, externalUserId: string): Promise<{ id: string; owner_id: string | null } | null> {
  const [row] = await m.query(`SELECT id, owner_id FROM contacts WHERE tenant_id = $1 AND wecom_external_user_id = $2`, [tenantId, externalUserId]);
  return row ?? null;
}

/** The employee deleted the customer: the contact stays; its owner is cleared when that employee was it. */
async function employeeDeletedContact(m: Queryable, tenantId: string, wecomUserId: string, externalUserId: string, batch: Batch): Promise<string> {
  const contact = await contactByExternalUserId(m, tenantId, externalUserId);
  if (!contact) return `unknown contact ${externalUserId}: nothing to change`;
  const member = await memberUser(m, tenantId, wecomUserId, batch);
  if (!member.userId || contact.owner_id !== member.userId) return `contact ${contact.id} kept; ${wecomUserId} was not its owner`;
  await m.query(`UPDATE contacts SET owner_id = NULL, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [tenantId, contact.id]);
  await m.query(`INSERT INTO domain_events (tenant_id, type, payload) VALUES ($1, 'contact.updated', $2)`, [
    tenantId, { contactIds: [contact.id], fields: ['ownerId'], via: 'wecom' }]);
  batch.touched.add(contact.id);
  return `contact ${contact.id}: owner cleared (${wecomUserId} deleted the customer)`;
}

/** The customer deleted the employee: an 'unsubscribed' response (source event) and the behaviour tag. */
async function contactDeletedEmployee(m: Queryable, tenantId: string, wecomUserId: string, externalUserId: string): Promise<string> {
  const contact = await contactByExternalUserId(m, tenantId, externalUserId);
  if (!contact) return `unknown contact ${externalUserId}: nothing to record`;
  const [group] = await m.query(
    `INSERT INTO tag_groups (tenant_id, name) VALUES ($1, $2) ON CONFLICT (tenant_id, name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
    [tenantId, DELETED_EMPLOYEE_TAG.group]);
  const [tag] = await m.query(
    `INSERT INTO tags (tenant_id, group_id, name, kind) VALUES ($1, $2, $3, 'behaviour')
     ON CONFLICT (tenant_id, group_id, name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
    [tenantId, group.id, DELETED_EMPLOYEE_TAG.name]);
  await changeTags(m, tenantId, [contact.id], { add: [tag.id], reason: `deleted WeCom member ${wecomUserId}` }, { type: 'system', id: null });
  await recordResponse(m, tenantId, { contactId: contact.id, kind: 'unsubscribed', source: 'event', data: { via: 'wecom', deletedMember: wecomUserId } });
  return `contact ${contact.id} deleted member ${wecomUserId}: response and tag recorded`;
}

interface GroupChat {
  chat_id: string;
  name?: string;
  owner?: string;
  member_list?: { userid: string; type: number }[];
}

/**
 * Created or changed: the group upserted by chat_id (name, owner matched to our user). Members: at creation the
 * chat's external members; on add_member / del_member the event's MemChangeList. Only members that are our
 * contacts count; each one joining or leaving becomes a group_members row and a joined_group / left_group response.
 */
async function chatChanged(m: Queryable, tenantId: string, p: Record<string, unknown>, answer: WecomAnswer, batch: Batch): Promise<string> {
  const chat = answer.group_chat as GroupChat;
  const owner = await memberUser(m, tenantId, chat.owner ?? '', batch);
  const [group] = await m.query(
    `INSERT INTO customer_groups (tenant_id, name, owner_id, wecom_chat_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, wecom_chat_id) WHERE wecom_chat_id IS NOT NULL DO UPDATE SET
       name = EXCLUDED.name, owner_id = EXCLUDED.owner_id, wecom_dismissed_at = NULL, updated_at = now()
     RETURNING id, (xmax = 0) AS created`,
    [tenantId, chat.name || chat.chat_id, owner.userId, chat.chat_id]);
  const detail = text(p.UpdateDetail);
  let joined = 0;
  let left = 0;
  if (p.ChangeType === 'create' || group.created) {
    joined = await changeMembers(m, tenantId, group.id, chat.chat_id, (chat.member_list ?? []).filter((u) => u.type === 2).map((u) => u.userid), true, batch.touched);
  }
  if (detail === 'add_member') joined += await changeMembers(m, tenantId, group.id, chat.chat_id, items(p.MemChangeList), true, batch.touched);
  if (detail === 'del_member') left = await changeMembers(m, tenantId, group.id, chat.chat_id, items(p.MemChangeList), false, batch.touched);
  return `group ${group.id} ${group.created ? 'created' : `updated (${detail || 'details'})`}${ownerNote(chat.owner ?? '', owner)}; ${joined} contacts joined, ${left} left`;
}

async function changeMembers(
  m: Queryable, tenantId: string, groupId: string, chatId: string, externalUserIds: string[], join: boolean, touched: Set<string>,
): Promise<number> {
  if (!externalUserIds.length) return 0;
  const changed: string[] = (await returning(m, join
    ? `INSERT INTO group_members (tenant_id, group_id, contact_id)
         SELECT $1, $2, id FROM contacts WHERE tenant_id = $1 AND wecom_external_user_id = ANY($3::text[])
       ON CONFLICT DO NOTHING RETURNING contact_id`
    : `DELETE FROM group_members g USING contacts c
        WHERE g.tenant_id = $1 AND g.group_id = $2 AND c.id = g.contact_id AND c.tenant_id = $1 AND c.wecom_external_user_id = ANY($3::text[])
       RETURNING g.contact_id`,
  [tenantId, groupId, externalUserIds])).map((r: { contact_id: string }) => r.contact_id);
  if (!changed.length) return 0;
  await m.query(`INSERT INTO domain_events (tenant_id, type, payload) VALUES ($1, 'group.members_changed', $2)`, [tenantId, { groupId, contactIds: changed }]);
  for (const contactId of changed) {
    await recordResponse(m, tenantId, { contactId, kind: join ? 'joined_group' : 'left_group', source: 'event', data: { groupId, chatId, via: 'wecom' } });
  }
  for (const id of changed) touched.add(id);
  return changed.length;
}

/** Dismissed: the group is kept (its tasks and history stay) and marked; its members are removed without responses. */
async function chatDismissed(m: Queryable, tenantId: string, chatId: string, touched: Set<string>): Promise<string> {
  const [group] = await returning(m,
    `UPDATE customer_groups SET wecom_dismissed_at = coalesce(wecom_dismissed_at, now()), updated_at = now() WHERE tenant_id = $1 AND wecom_chat_id = $2 RETURNING id`,
    [tenantId, chatId]);
  if (!group) return `unknown group ${chatId}: nothing to change`;
  const removed: string[] = (await returning(m, `DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 RETURNING contact_id`, [tenantId, group.id]))
    .map((r: { contact_id: string }) => r.contact_id);
  if (removed.length) {
    await m.query(`INSERT INTO domain_events (tenant_id, type, payload) VALUES ($1, 'group.members_changed', $2)`, [tenantId, { groupId: group.id, contactIds: removed }]);
    for (const id of removed) touched.add(id);
  }
  return `group ${group.id} dismissed; ${removed.length} memberships ended`;
}

/**
 * Corp tag groups and tags as WeCom lists them, onto ours by WeCom id: renamed and reordered when linked; when
 * not, a group or tag of the same name is linked, else one is created (kind 'manual').
 */
async function upsertCorpTags(m: Queryable, tenantId: string, groups: CorpTagGroup[]): Promise<{ groups: number; tags: number }> {
  let tags = 0;
  for (const g of groups) {
    // a rename made here and not sent yet keeps our name: WeCom's is the old one (PENDING_GROUP_RENAME)
    let [group] = await returning(m,
      `UPDATE tag_groups g SET name = CASE WHEN ${PENDING_GROUP_RENAME('g')} THEN g.name ELSE $3 END, wecom_order = $4
        WHERE g.tenant_id = $1 AND g.wecom_group_id = $2 RETURNING g.id`,
      [tenantId, g.group_id, g.group_name, g.order ?? null]);
    group ??= (await m.query(
      `INSERT INTO tag_groups (tenant_id, name, wecom_group_id, wecom_order) VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id, name) DO UPDATE SET wecom_group_id = EXCLUDED.wecom_group_id, wecom_order = EXCLUDED.wecom_order
         WHERE tag_groups.wecom_group_id IS NULL RETURNING id`,
      [tenantId, g.group_name, g.group_id, g.order ?? null]))[0];
    if (!group) throw new Error(`tag group name "${g.group_name}" is held by another WeCom tag group`);
    for (const t of g.tag ?? []) {
      let [tag] = await returning(m,
        `UPDATE tags t SET name = CASE WHEN ${PENDING_TAG_RENAME('t')} THEN t.name ELSE $3 END, wecom_order = $4, group_id = $5
          WHERE t.tenant_id = $1 AND t.wecom_tag_id = $2 RETURNING t.id`,
        [tenantId, t.id, t.name, t.order ?? null, group.id]);
      tag ??= (await m.query(
        `INSERT INTO tags (tenant_id, group_id, name, kind, wecom_tag_id, wecom_order) VALUES ($1, $2, $3, 'manual', $4, $5)
         ON CONFLICT (tenant_id, group_id, name) DO UPDATE SET wecom_tag_id = EXCLUDED.wecom_tag_id, wecom_order = EXCLUDED.wecom_order
           WHERE tags.wecom_tag_id IS NULL RETURNING id`,
        [tenantId, group.id, t.name, t.id, t.order ?? null]))[0];
      if (!tag) throw new Error(`tag name "${t.name}" in "${g.group_name}" is held by another WeCom tag`);
      tags++;
    }
  }
  return { groups: groups.length, tags };
}

/** Deleted in WeCom: our tag (or group and its tags) is unlinked, not deleted: contacts keep it and SOPs that use it still work. */
async function corpTagDeleted(m: Queryable, tenantId: string, tagType: string, id: string): Promise<string> {
  if (tagType === 'tag_group') {
    const [group] = await returning(m, `UPDATE tag_groups SET wecom_group_id = NULL, wecom_order = NULL WHERE tenant_id = $1 AND wecom_group_id = $2 RETURNING id`, [tenantId, id]);
    if (!group) return `unknown tag group ${id}: nothing to unlink`;
    const tags = await returning(m, `UPDATE tags SET wecom_tag_id = NULL, wecom_order = NULL WHERE tenant_id = $1 AND group_id = $2 AND wecom_tag_id IS NOT NULL RETURNING id`, [tenantId, group.id]);
    return `tag group ${group.id} and ${tags.length} tags unlinked from WeCom`;
  }
  const [tag] = await returning(m, `UPDATE tags SET wecom_tag_id = NULL, wecom_order = NULL WHERE tenant_id = $1 AND wecom_tag_id = $2 RETURNING id`, [tenantId, id]);
  return tag ? `tag ${tag.id} unlinked from WeCom` : `unknown tag ${id}: nothing to unlink`;
}
