import { contactsChangedSet, replaceTagsWithin } from '@sop/engine';
import { WecomApiError, type WecomAccess, type WecomClient, type WecomConnection } from '@sop/wecom';
import type { WecomNightlyActivities, WecomSyncActivities, WecomSyncKind } from '@sop/workflows';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { DataSource, EntityManager } from 'typeorm';
import { heartbeating } from './heartbeating';
import { asWecomOrigin, inPool, PENDING_GROUP_RENAME, PENDING_TAG_RENAME } from './wecom-tag-push';

/** WeCom's maxima: 100 members per batch/get_by_user call and 100 contacts a page. */
const USERS_PER_BATCH = 100;
const CONTACTS_PER_PAGE = 100;
/** Contact pages are written together, this many pairs at a time (one transaction, with the cursor after them). */
const PAIRS_PER_WRITE = 2000;
/** groupchat/list allows 1000; each chat then costs a groupchat/get, so pages stay small enough to resume often. */
const GROUPS_PER_PAGE = 100;
/** groupchat/get calls at once for a page (as the events' fetches). */
const GROUP_FETCHES_AT_ONCE = 8;
/** groupchat/get's answer for a chat it does not know (dismissed) */
const CHAT_NOT_FOUND = 40050;
/** An activity call works this long, then hands back to the workflow (which calls again: history stays short). */
const SLICE_MS = 60_000;
// actor id 'wecom': the tag push trigger queues nothing for WeCom's own state
const ACTOR = { type: 'system' as const, id: 'wecom' };
const REASON = 'WeCom sync';

/** The run's resumable position, saved with each page's rows in one transaction. */
interface SyncCursor {
  /** full: every member who may have customers; incremental: the dirty members among them */
  contacts?: ContactPosition & { done?: boolean };
  groups?: { cursor: string; done?: boolean };
  /** members the member step found new or changed (kept by every run; the incremental one reads their customers) */
  changedMembers?: string[];
  /** incremental: what changed since the last successful sync, fixed when its contact step begins (`at`, the database's clock) */
  dirty?: { since: string | null; at: string; members: string[]; chats: string[] };
  /** incremental: the chats to read (`dirty.chats` and those WeCom lists that we lack), and how many are in */
  dirtyGroups?: { chats: string[]; next: number; done?: boolean };
}

/** Where the contact pages stand: the batch of USERS_PER_BATCH members, and WeCom's cursor within it. */
interface ContactPosition {
  batch: number;
  cursor: string;
}

type ContactPage = {
  external_contact_list?: {
    external_contact: { external_userid: string; name?: string };
    follow_info: { userid: string; createtime?: number; tag_id?: string[] };
  }[];
  next_cursor?: string;
};

/** Pages read for one write, the position after them, and whether they were the last. */
interface ContactChunk {
  pages: ContactPage[];
  at: ContactPosition;
  done: boolean;
}

/**
 * The full sync's activities (issue 16). Every write is keyed by WeCom's ids and repeatable; each page and the
 * run's cursor commit together, so a retried activity (another worker, after a kill) goes on from the last page
 * in. WeCom's refusals that are not rate limits fail the activity for good (the run ends failed with the error);
 * rate limits and WeCom out of reach are retried by Temporal after the client's own backoff.
 */
export function wecomSyncActivities(db: DataSource, access?: WecomAccess): WecomSyncActivities & WecomNightlyActivities {
  const open = async (tenantId: string): Promise<{ conn: WecomConnection; contacts: WecomClient; app: WecomClient }> => {
    if (!access) throw ApplicationFailure.nonRetryable('this worker has no WeCom settings', 'WecomNotConfigured');
    const conn = await access.connection(db, tenantId);
    if (!conn) throw ApplicationFailure.nonRetryable('the organization has no WeCom connection', 'WecomNotConnected');
    return { conn, contacts: access.contacts(conn), app: access.app(conn) };
  };
  const guarded = <A extends unknown[], R>(work: (...args: A) => Promise<R>) => (...args: A): Promise<R> =>
    heartbeating(() => work(...args)).catch((err) => {
      if (err instanceof WecomApiError && !err.retryable) throw ApplicationFailure.nonRetryable(err.message, 'WecomRefused');
      throw err;
    });
  const cursorOf = async (runId: string, tenantId: string): Promise<SyncCursor> =>
    (await db.query(`SELECT cursor FROM wecom_sync_runs WHERE id = $1 AND tenant_id = $2`, [runId, tenantId]))[0]?.cursor ?? {};
  const saveCursor = async (m: EntityManager, runId: string, cursor: SyncCursor, counts: Record<string, number>) => {
    await m.query(`UPDATE wecom_sync_runs SET cursor = $2 WHERE id = $1`, [runId, cursor]);
    await addCounts(m, runId, counts);
  };
  const cancelled = () => Context.current().cancellationSignal.aborted;

  /**
   * batch/get_by_user pages of `users` (100 a call) from the run's saved position, written PAIRS_PER_WRITE pairs at
   * a time with the position after them, for up to SLICE_MS; `last` runs in the transaction of the last write.
   * Several of WeCom's pages go in one transaction: the per-write work (tags, computed tags, memberships) is
   * set-based, so it costs about the same for 100 pairs as for 2,000.
   */
  const pageContacts = async (
    client: WecomClient, tenantId: string, runId: string, state: SyncCursor, users: string[],
    last?: (m: EntityManager) => Promise<Record<string, number>>,
  ): Promise<{ done: boolean }> => {
    const position: ContactPosition = { batch: state.contacts?.batch ?? 0, cursor: state.contacts?.cursor ?? '' };
    /** WeCom's pages from `from` until PAIRS_PER_WRITE pairs or the last page, and the position after them. */
    const read = async (from: ContactPosition): Promise<ContactChunk> => {
      const at = { ...from };
      const pages: ContactPage[] = [];
      let pairs = 0;
      while (pairs < PAIRS_PER_WRITE && !cancelled()) {
        const batch = users.slice(at.batch * USERS_PER_BATCH, (at.batch + 1) * USERS_PER_BATCH);
        if (!batch.length) return { pages, at, done: true };
        const page = await client.post<ContactPage & { errcode: number }>('/cgi-bin/externalcontact/batch/get_by_user', {
          userid_list: batch, cursor: at.cursor, limit: CONTACTS_PER_PAGE,
        });
        if (page.next_cursor) at.cursor = page.next_cursor;
        else Object.assign(at, { batch: at.batch + 1, cursor: '' });
        pages.push(page);
        pairs += page.external_contact_list?.length ?? 0;
      }
      return { pages, at, done: false };
    };
    const until = Date.now() + SLICE_MS;
    // The next chunk is read while this one is written (WeCom's round trips overlap Postgres's work); its
    // rows and cursor still commit only after this chunk's, in order. A failed read surfaces when its turn
    // comes, after the writes before it are in.
    const ahead = (from: ContactPosition) => {
      const chunk = read(from);
      chunk.catch(() => undefined); // awaited below; a chunk left unread (time up, cancelled) must not crash the worker
      return chunk;
    };
    let next: Promise<ContactChunk> | null = ahead(position);
    while (next) {
      const chunk: ContactChunk = await next;
      if (cancelled()) break; // the pages read since the last write are read again by the retry
      next = !chunk.done && Date.now() < until ? ahead(chunk.at) : null;
      await db.transaction(async (m) => {
        const written = await writeContactPage(m, tenantId, runId, { external_contact_list: chunk.pages.flatMap((p) => p.external_contact_list ?? []) });
        const more = chunk.done && last ? await last(m) : {};
        await saveCursor(m, runId, { ...state, contacts: { ...chunk.at, ...(chunk.done ? { done: true } : {}) } }, { ...written, ...more });
      });
      Context.current().heartbeat(chunk.at);
      if (chunk.done) return { done: true };
    }
    return { done: false };
  };

  /**
   * What changed since the tenant's last successful sync began, fixed on the run (so a resumed run reads the same
   * members): members and chats named by callbacks received since (or whose events failed since), members matched by
   * hand since, and members the member step found new or changed.
   */
  const fixDirty = async (tenantId: string, runId: string, state: SyncCursor): Promise<SyncCursor> => db.transaction(async (m) => {
    const [named] = await m.query(
      `WITH since AS (
         SELECT max(started_at) AS at FROM wecom_sync_runs WHERE tenant_id = $1 AND status = 'succeeded'
       ), events AS (
         SELECT e.event, e.payload FROM wecom_callback_events e, since WHERE e.tenant_id = $1 AND e.received_at >= since.at
         UNION ALL
         SELECT e.event, e.payload FROM wecom_callback_events e, since
          WHERE e.tenant_id = $1 AND e.error IS NOT NULL AND e.processed_at >= since.at
       )
       SELECT (SELECT at FROM since) AS since, now() AS at,
              coalesce(array_agg(DISTINCT payload->>'UserID') FILTER (WHERE event = 'change_external_contact' AND payload->>'UserID' <> ''), '{}') AS members,
              coalesce(array_agg(DISTINCT payload->>'ChatId') FILTER (WHERE event = 'change_external_chat' AND payload->>'ChatId' <> ''), '{}') AS chats,
              (SELECT coalesce(array_agg(wecom_user_id), '{}') FROM wecom_users, since WHERE tenant_id = $1 AND matched_at >= since.at) AS matched
         FROM events`,
      [tenantId],
    );
    const members = [...new Set<string>([...named.members, ...named.matched, ...(state.changedMembers ?? [])])].sort();
    const next: SyncCursor = { ...state, dirty: { since: named.since ? new Date(named.since).toISOString() : null, at: new Date(named.at).toISOString(), members, chats: [...named.chats].sort() } };
    await m.query(`UPDATE wecom_sync_runs SET cursor = $2 WHERE id = $1`, [runId, next]);
    await setCounts(m, runId, { dirtyMembers: members.length });
    return next;
  });

  return {
    listWecomTenants: async (input) => (await db.query(
      `SELECT tenant_id FROM wecom_connections WHERE $1::uuid[] IS NULL OR tenant_id = ANY($1::uuid[]) ORDER BY tenant_id`, [input?.tenantIds ?? null],
    )).map((r: { tenant_id: string }) => r.tenant_id),

    openWecomSync: async (tenantId) => db.transaction(async (m) => {
      // One running run per tenant: the workflow id already makes syncs of a tenant one at a time, and the lock
      // makes the API's "answer the running run" and this agree on which row it is.
      await m.query(`SELECT pg_advisory_xact_lock(hashtextextended('wecom-sync:' || $1, 0))`, [tenantId]);
      const [running] = await m.query(`SELECT id FROM wecom_sync_runs WHERE tenant_id = $1 AND status = 'running' ORDER BY id DESC LIMIT 1`, [tenantId]);
      if (running) return String(running.id);
      const [created] = await m.query(`INSERT INTO wecom_sync_runs (tenant_id, kind) VALUES ($1, 'full') RETURNING id`, [tenantId]);
      return String(created.id);
    }),

    openWecomSyncRun: async (tenantId, kind) => db.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtextextended('wecom-sync:' || $1, 0))`, [tenantId]);
      // nothing to be incremental to before a first successful sync: that one is full
      const [ever] = await m.query(`SELECT 1 FROM wecom_sync_runs WHERE tenant_id = $1 AND status = 'succeeded' LIMIT 1`, [tenantId]);
      const wanted: WecomSyncKind = ever ? kind : 'full';
      const [running] = await m.query(`SELECT id::text, kind FROM wecom_sync_runs WHERE tenant_id = $1 AND status = 'running' ORDER BY id DESC LIMIT 1`, [tenantId]);
      if (!running) {
        const [created] = await m.query(`INSERT INTO wecom_sync_runs (tenant_id, kind) VALUES ($1, $2) RETURNING id::text`, [tenantId, wanted]);
        return { runId: created.id, kind: wanted };
      }
      // a running incremental run asked to be full starts over as one (its cursor means other members); a full run is never made less
      if (running.kind === 'incremental' && wanted === 'full') {
        await m.query(`UPDATE wecom_sync_runs SET kind = 'full', cursor = NULL, counts = '{}' WHERE id = $1`, [running.id]);
        return { runId: running.id, kind: 'full' as const };
      }
      return { runId: running.id, kind: running.kind as WecomSyncKind };
    }),

    syncWecomMembers: guarded(async (tenantId, runId) => {
      const { app } = await open(tenantId);
      const ids: string[] = [];
      let cursor = '';
      do {
        const page = await app.post<{ errcode: number; dept_user?: { userid: string }[]; next_cursor?: string }>('/cgi-bin/user/list_id', { cursor, limit: 10000 });
        ids.push(...(page.dept_user ?? []).map((u) => u.userid));
        cursor = page.next_cursor ?? '';
      } while (cursor);
      const members: { id: string; name: string; email: string | null }[] = [];
      for (const id of [...new Set(ids)]) {
        const u = await app.get<{ errcode: number; name?: string; email?: string; biz_mail?: string }>('/cgi-bin/user/get', { userid: id });
        members.push({ id, name: u.name ?? '', email: u.email || u.biz_mail || null });
      }
      await db.transaction(async (m) => {
        const before = await memberStates(m, tenantId);
        await m.query(
          `INSERT INTO wecom_users (tenant_id, wecom_user_id, name, email, active, synced_at)
           SELECT $1, x.id, x.name, x.email, true, now() FROM unnest($2::text[], $3::text[], $4::text[]) AS x(id, name, email)
           ON CONFLICT (tenant_id, wecom_user_id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email, active = true, synced_at = now()`,
          [tenantId, members.map((x) => x.id), members.map((x) => x.name), members.map((x) => x.email)],
        );
        await m.query(`UPDATE wecom_users SET active = false WHERE tenant_id = $1 AND active AND wecom_user_id <> ALL($2::text[])`, [tenantId, members.map((x) => x.id)]);
        await matchByEmail(m, tenantId);
        const after = await memberStates(m, tenantId);
        // new, changed, left, matched otherwise: the incremental sync reads these members' customers again
        const changed = [...after].filter(([id, state]) => before.get(id) !== state).map(([id]) => id);
        await m.query(
          `UPDATE wecom_sync_runs SET cursor = coalesce(cursor, '{}') || jsonb_build_object('changedMembers', (
             SELECT coalesce(jsonb_agg(DISTINCT v ORDER BY v), '[]')
               FROM (SELECT jsonb_array_elements_text(coalesce(cursor->'changedMembers', '[]')) UNION SELECT unnest($2::text[])) AS x(v)))
            WHERE id = $1`,
          [runId, changed],
        );
        await setCounts(m, runId, { members: members.length });
      });
      return members.length;
    }),

    syncWecomTags: guarded(async (tenantId, runId) => {
      const { contacts } = await open(tenantId);
      const answer = await contacts.post<{ errcode: number; tag_group?: CorpTagGroup[] }>('/cgi-bin/externalcontact/get_corp_tag_list', {});
      const groups = (answer.tag_group ?? []).filter((g) => !g.deleted);
      let tags = 0;
      await db.transaction(async (m) => {
        await asWecomOrigin(m); // WeCom's own definitions: nothing is queued to send back
        for (const g of groups) {
          const groupId = await upsertTagGroup(m, tenantId, g);
          const live = (g.tag ?? []).filter((t) => !t.deleted);
          for (const t of live) await upsertTag(m, tenantId, groupId, t);
          tags += live.length;
        }
        // Deleted in WeCom: unlinked, not deleted. The tag keeps its contacts and whatever segments and SOPs name it;
        // it is simply no longer WeCom's, so later syncs leave it alone.
        const tagIds = groups.flatMap((g) => (g.tag ?? []).filter((t) => !t.deleted).map((t) => t.id));
        await m.query(`UPDATE tags SET wecom_tag_id = NULL, wecom_order = NULL WHERE tenant_id = $1 AND wecom_tag_id IS NOT NULL AND wecom_tag_id <> ALL($2::text[])`, [tenantId, tagIds]);
        await m.query(
          `UPDATE tag_groups SET wecom_group_id = NULL, wecom_order = NULL WHERE tenant_id = $1 AND wecom_group_id IS NOT NULL AND wecom_group_id <> ALL($2::text[])`,
          [tenantId, groups.map((g) => g.group_id)],
        );
        await setCounts(m, runId, { tagGroups: groups.length, tags });
      });
      return tags;
    }),

    syncWecomContacts: guarded(async (tenantId, runId) => {
      const { contacts } = await open(tenantId);
      const state = await cursorOf(runId, tenantId);
      if (state.contacts?.done) return { done: true };
      const follow = await contacts.get<{ errcode: number; follow_user?: string[] }>('/cgi-bin/externalcontact/get_follow_user_list');
      return pageContacts(contacts, tenantId, runId, state, [...(follow.follow_user ?? [])].sort());
    }),

    syncWecomDirtyContacts: guarded(async (tenantId, runId) => {
      const { contacts } = await open(tenantId);
      let state = await cursorOf(runId, tenantId);
      if (state.contacts?.done) return { done: true };
      if (!state.dirty) state = await fixDirty(tenantId, runId, state);
      const dirty = state.dirty!;
      // dirty members WeCom no longer lists (left, lost the customer-contact permission) are read as having no customers
      const follow = dirty.members.length
        ? await contacts.get<{ errcode: number; follow_user?: string[] }>('/cgi-bin/externalcontact/get_follow_user_list')
        : { follow_user: [] };
      const listed = new Set(follow.follow_user ?? []);
      return pageContacts(contacts, tenantId, runId, state, dirty.members.filter((u) => listed.has(u)),
        (m) => dropUnseenFollows(m, tenantId, runId, dirty.members, dirty.at));
    }),

    syncWecomGroups: guarded(async (tenantId, runId) => {
      const { contacts } = await open(tenantId);
      const state = await cursorOf(runId, tenantId);
      const position = state.groups ?? { cursor: '' };
      if (position.done) return { done: true };
      const until = Date.now() + SLICE_MS;
      while (Date.now() < until && !cancelled()) {
        const list = await contacts.post<{ errcode: number; group_chat_list?: { chat_id: string }[]; next_cursor?: string }>(
          '/cgi-bin/externalcontact/groupchat/list', { status_filter: 0, cursor: position.cursor, limit: GROUPS_PER_PAGE },
        );
        const got = await inPool(list.group_chat_list ?? [], GROUP_FETCHES_AT_ONCE, ({ chat_id }) =>
          contacts.post<{ errcode: number; group_chat: GroupChat }>('/cgi-bin/externalcontact/groupchat/get', { chat_id, need_name: 0 }));
        const failed = got.find((r) => r.status === 'rejected');
        if (failed) throw failed.reason; // nothing of the page is written: the retry reads it again
        const chats = got.map((r) => (r as PromiseFulfilledResult<{ group_chat: GroupChat }>).value.group_chat);
        const next = { cursor: list.next_cursor ?? '', done: !list.next_cursor };
        await db.transaction(async (m) => {
          const written = await writeGroupPage(m, tenantId, chats);
          await saveCursor(m, runId, { ...state, groups: next }, written);
        });
        Object.assign(position, next);
        Context.current().heartbeat(position);
        if (next.done) return { done: true };
      }
      return { done: false };
    }),

    syncWecomDirtyGroups: guarded(async (tenantId, runId) => {
      const { contacts } = await open(tenantId);
      const state = await cursorOf(runId, tenantId);
      if (state.dirtyGroups?.done) return { done: true };
      if (!state.dirtyGroups) {
        // the status pass: one groupchat/list call per 1,000 chats finds chats whose callbacks never came
        const listed: string[] = [];
        const listedAt = new Date();
        let cursor = '';
        do {
          const list = await contacts.post<{ errcode: number; group_chat_list?: { chat_id: string }[]; next_cursor?: string }>(
            '/cgi-bin/externalcontact/groupchat/list', { status_filter: 0, cursor, limit: 1000 },
          );
          listed.push(...(list.group_chat_list ?? []).map((c) => c.chat_id));
          cursor = list.next_cursor ?? '';
        } while (cursor);
        const [{ known }] = await db.query(
          `SELECT coalesce(array_agg(wecom_chat_id), '{}') AS known FROM customer_groups WHERE tenant_id = $1 AND wecom_chat_id = ANY($2::text[])`, [tenantId, listed]);
        const have = new Set<string>(known);
        const chats = [...new Set([...(state.dirty?.chats ?? []), ...listed.filter((c) => !have.has(c))])].sort();
        state.dirtyGroups = { chats, next: 0 };
        await db.transaction(async (m) => {
          const dismissed = await dismissGroupsGone(m, tenantId, listedAt, listed);
          await saveCursor(m, runId, state, {});
          await setCounts(m, runId, { dirtyChats: chats.length, ...(dismissed ? { groupsDismissed: dismissed } : {}) });
        });
      }
      const position = state.dirtyGroups;
      const until = Date.now() + SLICE_MS;
      while (Date.now() < until && !cancelled()) {
        const slice = position.chats.slice(position.next, position.next + GROUPS_PER_PAGE);
        const chats: GroupChat[] = [];
        for (const chat_id of slice) {
          try {
            chats.push((await contacts.post<{ errcode: number; group_chat: GroupChat }>('/cgi-bin/externalcontact/groupchat/get', { chat_id, need_name: 0 })).group_chat);
          } catch (err) {
            // a chat named by a callback and dismissed since: its dismiss event marks it
            if (!(err instanceof WecomApiError && err.errcode === CHAT_NOT_FOUND)) throw err;
          }
        }
        const next = { ...position, next: position.next + slice.length, ...(position.next + slice.length >= position.chats.length ? { done: true } : {}) };
        await db.transaction(async (m) => {
          const written = await writeGroupPage(m, tenantId, chats);
          await saveCursor(m, runId, { ...state, dirtyGroups: next }, written);
        });
        Object.assign(position, next);
        Context.current().heartbeat(position.next);
        if (next.done) return { done: true };
      }
      return { done: false };
    }),

    finishWecomSync: async (tenantId, runId, error) => {
      await db.transaction(async (m) => {
        const [run] = await m.query(`SELECT status, kind, started_at FROM wecom_sync_runs WHERE id = $1 AND tenant_id = $2 FOR UPDATE`, [runId, tenantId]);
        if (!run || run.status !== 'running') return; // a retried finish
        // an incremental run dropped its members' unseen follows at the end of its contact step; it saw no others
        if (!error && run.kind === 'full') {
          await dropUnseenFollows(m, tenantId, runId, null, run.started_at);
          // every chat WeCom lists was written since the run began; one not written was dismissed in WeCom
          const dismissed = await dismissGroupsGone(m, tenantId, run.started_at, null);
          if (dismissed) await setCounts(m, runId, { groupsDismissed: dismissed });
        }
        await m.query(`UPDATE wecom_sync_runs SET status = $3, finished_at = now(), error = $4 WHERE id = $1 AND tenant_id = $2`, [runId, tenantId, error ? 'failed' : 'succeeded', error]);
        await m.query(
          error
            ? `UPDATE wecom_connections SET last_error = $2, last_error_at = now() WHERE tenant_id = $1`
            : `UPDATE wecom_connections SET last_sync_at = now() WHERE tenant_id = $1`,
          error ? [tenantId, `sync: ${error}`] : [tenantId],
        );
      });
    },
  };
}

interface CorpTag { id: string; name: string; order?: number; deleted?: boolean }
interface CorpTagGroup { group_id: string; group_name: string; order?: number; deleted?: boolean; tag?: CorpTag[] }
type GroupChat = { chat_id: string; name?: string; owner?: string; member_list?: { userid: string; type: number }[] };

/**
 * The rows of an UPDATE or DELETE ... RETURNING: TypeORM answers those two as `[rows, rowCount]` (other statements as
 * the rows alone).
 */
const returned = <T>(result: T[] | [T[], number]): T[] =>
  (result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number' ? result[0] : result) as T[];

/** Adds to the run's counts (pages: each commits once, with its cursor). */
const addCounts = (m: EntityManager, runId: string, counts: Record<string, number>) =>
  m.query(
    `UPDATE wecom_sync_runs r SET counts = r.counts || (SELECT coalesce(jsonb_object_agg(k, coalesce((r.counts->>k)::int, 0) + v::int), '{}') FROM jsonb_each_text($2::jsonb) AS x(k, v)) WHERE id = $1`,
    [runId, counts],
  );
/** Sets counts (a phase done in one go, which a retry repeats). */
const setCounts = (m: EntityManager, runId: string, counts: Record<string, number>) =>
  m.query(`UPDATE wecom_sync_runs SET counts = counts || $2::jsonb WHERE id = $1`, [runId, counts]);

/**
 * Members matched by email (case-insensitive) to an enabled user of the organization not matched yet; a match
 * by hand (or an unmatch by hand: matched_by 'hand' with no user) is never changed, and an email match whose
 * emails no longer agree is undone first.
 */
async function matchByEmail(m: EntityManager, tenantId: string): Promise<void> {
  await m.query(
    `UPDATE wecom_users wu SET user_id = NULL, matched_by = NULL
      WHERE wu.tenant_id = $1 AND wu.matched_by = 'email'
        AND NOT EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = $1 AND u.id = wu.user_id AND lower(u.email) = lower(wu.email))`,
    [tenantId],
  );
  await m.query(
    `WITH candidates AS (
       SELECT DISTINCT ON (u.id) u.id AS user_id, wu.wecom_user_id
         FROM wecom_users wu JOIN users u ON u.tenant_id = $1 AND lower(u.email) = lower(wu.email) AND u.disabled_at IS NULL
        WHERE wu.tenant_id = $1 AND wu.active AND wu.user_id IS NULL AND wu.matched_by IS NULL AND wu.email IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM wecom_users o WHERE o.tenant_id = $1 AND o.user_id = u.id)
        ORDER BY u.id, wu.wecom_user_id
     )
     UPDATE wecom_users wu SET user_id = c.user_id, matched_by = 'email'
       FROM candidates c WHERE wu.tenant_id = $1 AND wu.wecom_user_id = c.wecom_user_id`,
    [tenantId],
  );
}

/** A corp tag group → our tag group: by its WeCom id, else adopting our unlinked group of the same name; a rename of ours not sent yet keeps our name. */
async function upsertTagGroup(m: EntityManager, tenantId: string, g: CorpTagGroup): Promise<string> {
  await m.query(
    `UPDATE tag_groups SET wecom_group_id = $2 WHERE tenant_id = $1 AND name = $3 AND wecom_group_id IS NULL
        AND NOT EXISTS (SELECT 1 FROM tag_groups x WHERE x.tenant_id = $1 AND x.wecom_group_id = $2)`,
    [tenantId, g.group_id, g.group_name],
  );
  const [row] = await m.query(
    `INSERT INTO tag_groups (tenant_id, name, wecom_group_id, wecom_order) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, wecom_group_id) WHERE wecom_group_id IS NOT NULL
     DO UPDATE SET name = CASE WHEN ${PENDING_GROUP_RENAME('tag_groups')} THEN tag_groups.name ELSE EXCLUDED.name END,
       wecom_order = EXCLUDED.wecom_order RETURNING id`,
    [tenantId, g.group_name, g.group_id, g.order ?? 0],
  );
  return row.id;
}

/** A corp tag → our tag (kind manual) in its group: by its WeCom id, else adopting our unlinked tag of that name; a rename of ours not sent yet keeps our name. */
async function upsertTag(m: EntityManager, tenantId: string, groupId: string, t: CorpTag): Promise<void> {
  await m.query(
    `UPDATE tags SET wecom_tag_id = $3 WHERE tenant_id = $1 AND group_id = $2 AND name = $4 AND wecom_tag_id IS NULL
        AND NOT EXISTS (SELECT 1 FROM tags x WHERE x.tenant_id = $1 AND x.wecom_tag_id = $3)`,
    [tenantId, groupId, t.id, t.name],
  );
  await m.query(
    `INSERT INTO tags (tenant_id, group_id, name, kind, wecom_tag_id, wecom_order) VALUES ($1, $2, $3, 'manual', $4, $5)
     ON CONFLICT (tenant_id, wecom_tag_id) WHERE wecom_tag_id IS NOT NULL
     DO UPDATE SET name = CASE WHEN ${PENDING_TAG_RENAME('tags')} THEN tags.name ELSE EXCLUDED.name END,
       group_id = EXCLUDED.group_id, wecom_order = EXCLUDED.wecom_order`,
    [tenantId, groupId, t.name, t.id, t.order ?? 0],
  );
}

/**
 * Pairs of (contact, following member), many of WeCom's pages at once: the follows are kept, then contacts we
 * do not have yet are inserted with their owner and WeCom tags already derived from all their follows known so
 * far (one row version per contact: an insert, an owner update and a tag_nums update made three, each written
 * to every index of contacts), and contacts we have are renamed when their name changed and have their owner and
 * tags derived again.
 */
async function writeContactPage(m: EntityManager, tenantId: string, runId: string, page: ContactPage): Promise<Record<string, number>> {
  const pairs = page.external_contact_list ?? [];
  if (!pairs.length) return {};
  const names = new Map(pairs.map((p) => [p.external_contact.external_userid, p.external_contact.name ?? '']));
  await m.query(
    `INSERT INTO wecom_follows (tenant_id, external_user_id, wecom_user_id, followed_at, tag_ids, run_id)
     SELECT $1, x.e, x.u, to_timestamp(x.t), coalesce((SELECT array_agg(v) FROM jsonb_array_elements_text(x.tags) v), '{}'), $6
       FROM unnest($2::text[], $3::text[], $4::float8[], $5::jsonb[]) AS x(e, u, t, tags)
     ON CONFLICT (tenant_id, external_user_id, wecom_user_id)
     DO UPDATE SET followed_at = EXCLUDED.followed_at, tag_ids = EXCLUDED.tag_ids, run_id = EXCLUDED.run_id`,
    [
      tenantId, pairs.map((p) => p.external_contact.external_userid), pairs.map((p) => p.follow_info.userid),
      pairs.map((p) => p.follow_info.createtime ?? 0), pairs.map((p) => JSON.stringify(p.follow_info.tag_id ?? [])), runId,
    ],
  );
  const created = await insertNewContacts(m, tenantId, [...names.keys()], [...names.values()]);
  const known = new Set(created.map((c) => c.e));
  const existing = [...names].filter(([e]) => !known.has(e));
  let changed = created.map((c) => c.id);
  if (existing.length) {
    const renamed: { id: string }[] = await m.query(
      `UPDATE contacts c SET name = x.name, updated_at = now() FROM unnest($2::text[], $3::text[]) AS x(e, name)
        WHERE c.tenant_id = $1 AND c.wecom_external_user_id = x.e AND c.name IS DISTINCT FROM x.name
       RETURNING c.id`,
      [tenantId, existing.map(([e]) => e), existing.map(([, name]) => name)],
    );
    const derived = await applyFollows(m, tenantId, existing.map(([e]) => e));
    changed = [...new Set([...changed, ...renamed.map((r) => r.id), ...derived])];
  }
  await contactsChangedSet(m, tenantId, changed);
  return { contactPairs: pairs.length, contactsCreated: created.length };
}

/**
 * The contacts among `externalIds` we do not have yet, inserted in one statement with what `applyFollows` would
 * derive for them (the owner, the WeCom tags and their tag_nums copy), each tag with its event and one
 * `contact.tags_changed` in the outbox, as `replaceTagsWithin` and `refreshTagNums` write them. A contact another
 * transaction inserts meanwhile is skipped here (ON CONFLICT DO NOTHING) and derived by the caller as existing.
 */
async function insertNewContacts(m: EntityManager, tenantId: string, externalIds: string[], names: string[]): Promise<{ id: string; e: string }[]> {
  return m.query(
    // Contacts we have are left to ON CONFLICT (a NOT EXISTS here was planned as a scan of all the tenant's contacts).
    `WITH fresh AS (
       SELECT x.e, x.name FROM unnest($2::text[], $3::text[]) AS x(e, name)
     ), derived AS (
       SELECT fresh.e, fresh.name,
              (SELECT wu.user_id FROM wecom_follows f
                 JOIN wecom_users wu ON wu.tenant_id = $1 AND wu.wecom_user_id = f.wecom_user_id AND wu.user_id IS NOT NULL
                WHERE f.tenant_id = $1 AND f.external_user_id = fresh.e
                ORDER BY f.followed_at, f.wecom_user_id LIMIT 1) AS owner_id,
              ARRAY(SELECT DISTINCT t.num FROM wecom_follows f CROSS JOIN LATERAL unnest(f.tag_ids) AS w(tag)
                      JOIN tags t ON t.tenant_id = $1 AND t.wecom_tag_id = w.tag
                     WHERE f.tenant_id = $1 AND f.external_user_id = fresh.e ORDER BY t.num) AS tag_nums
         FROM fresh
     ), inserted AS (
       INSERT INTO contacts AS c (tenant_id, external_id, name, wecom_external_user_id, owner_id, tag_nums)
       SELECT $1, 'wecom:' || e, name, e, owner_id, tag_nums FROM derived ORDER BY e
       ON CONFLICT (tenant_id, wecom_external_user_id) WHERE wecom_external_user_id IS NOT NULL DO NOTHING
       RETURNING c.id, c.wecom_external_user_id AS e, c.tag_nums
     ), tagged AS (
       INSERT INTO contact_tags (tenant_id, contact_id, tag_id, tag_num, weight)
       SELECT $1, i.id, t.id, t.num, t.weight FROM inserted i JOIN tags t ON t.tenant_id = $1 AND t.num = ANY(i.tag_nums)
       RETURNING contact_id, tag_id
     ), events AS (
       INSERT INTO tag_events (tenant_id, contact_id, tag_id, action, actor_type, actor_id, reason)
       SELECT $1, contact_id, tag_id, 'added', $4, $5, $6 FROM tagged
     ), announced AS (
       INSERT INTO domain_events (tenant_id, type, payload)
       SELECT $1, 'contact.tags_changed', jsonb_build_object('contactIds', jsonb_agg(DISTINCT contact_id)) FROM tagged HAVING count(*) > 0
     )
     SELECT id, e FROM inserted`,
    [tenantId, externalIds, names, ACTOR.type, ACTOR.id, REASON],
  );
}

/**
 * Owner and WeCom tags of the given contacts from their follows: the owner is the matched user of the member who
 * added the contact first (among members matched to a user; no matched follower keeps the owner there is); the
 * WeCom-linked tags are exactly the union of the tags its followers gave it. Answers the contacts changed.
 */
async function applyFollows(m: EntityManager, tenantId: string, externalIds: string[]): Promise<string[]> {
  const owners = returned<{ id: string }>(await m.query(
    `WITH first AS (
       SELECT DISTINCT ON (f.external_user_id) f.external_user_id, wu.user_id
         FROM wecom_follows f JOIN wecom_users wu ON wu.tenant_id = $1 AND wu.wecom_user_id = f.wecom_user_id AND wu.user_id IS NOT NULL
        WHERE f.tenant_id = $1 AND f.external_user_id = ANY($2::text[])
        ORDER BY f.external_user_id, f.followed_at, f.wecom_user_id
     )
     UPDATE contacts c SET owner_id = first.user_id, updated_at = now() FROM first
      WHERE c.tenant_id = $1 AND c.wecom_external_user_id = first.external_user_id AND c.owner_id IS DISTINCT FROM first.user_id
     RETURNING c.id`,
    [tenantId, externalIds],
  ));
  // The WeCom tags each contact should have; only contacts whose linked tags differ go on to replaceTagsWithin,
  // which locks them (a contact seen again on a later page, its tags unchanged, costs a read, not a row lock).
  // A contact whose tags changed here and still wait to be marked in WeCom keeps them (WeCom's page predates the change).
  const differing: { id: string; wanted: string[] }[] = await m.query(
    `WITH wanted AS (
       SELECT c.id, coalesce(array_agg(DISTINCT t.id ORDER BY t.id) FILTER (WHERE t.id IS NOT NULL), '{}') AS wanted
         FROM contacts c
         LEFT JOIN wecom_follows f ON f.tenant_id = $1 AND f.external_user_id = c.wecom_external_user_id
         LEFT JOIN LATERAL unnest(f.tag_ids) AS w(tag) ON true
         LEFT JOIN tags t ON t.tenant_id = $1 AND t.wecom_tag_id = w.tag
        WHERE c.tenant_id = $1 AND c.wecom_external_user_id = ANY($2::text[])
          AND NOT EXISTS (SELECT 1 FROM wecom_tag_pushes p WHERE p.tenant_id = $1 AND p.contact_id = c.id AND p.error IS NULL)
        GROUP BY c.id
     )
     SELECT w.id, w.wanted FROM wanted w
      WHERE w.wanted IS DISTINCT FROM coalesce((SELECT array_agg(ct.tag_id ORDER BY ct.tag_id) FROM contact_tags ct
                                                  JOIN tags t ON t.id = ct.tag_id AND t.wecom_tag_id IS NOT NULL
                                                 WHERE ct.contact_id = w.id), '{}')`,
    [tenantId, externalIds],
  );
  const scope: string[] = differing.length
    ? (await m.query(`SELECT coalesce(array_agg(id), '{}') AS ids FROM tags WHERE tenant_id = $1 AND wecom_tag_id IS NOT NULL`, [tenantId]))[0].ids
    : [];
  const tagged = await replaceTagsWithin(
    m, tenantId, differing.map((d) => d.id), differing.flatMap((d) => d.wanted.map((tagId) => ({ contactId: d.id, tagId }))), scope, ACTOR, REASON,
  );
  return [...owners.map((o) => o.id), ...tagged.changed];
}

/** A member's state as the sync keeps it, to tell which members the member step changed. */
async function memberStates(m: EntityManager, tenantId: string): Promise<Map<string, string>> {
  const rows: { id: string; state: string }[] = await m.query(
    `SELECT wecom_user_id AS id, concat_ws('|', name, email, active, user_id) AS state FROM wecom_users WHERE tenant_id = $1`, [tenantId]);
  return new Map(rows.map((r) => [r.id, r.state]));
}

/**
 * The follows a run did not see are gone (the member no longer has that customer): at the end of a full sync every
 * member's, at the end of an incremental contact step the given members'. Their contacts' owners and tags are
 * derived again from the follows left, other members' included. A follow a callback named since `since` (the run
 * began, or fixed its members) is left to that callback: it may have been added after its member's pages were read.
 */
async function dropUnseenFollows(m: EntityManager, tenantId: string, runId: string, members: string[] | null, since: Date | string): Promise<Record<string, number>> {
  if (members && !members.length) return {};
  const gone = returned<{ external_user_id: string }>(await m.query(
    `DELETE FROM wecom_follows f WHERE f.tenant_id = $1 AND ($2::text[] IS NULL OR f.wecom_user_id = ANY($2::text[])) AND f.run_id IS DISTINCT FROM $3
        AND NOT EXISTS (SELECT 1 FROM wecom_callback_events e WHERE e.tenant_id = $1 AND e.received_at >= $4
                           AND e.payload->>'UserID' = f.wecom_user_id AND e.payload->>'ExternalUserID' = f.external_user_id)
     RETURNING f.external_user_id`,
    [tenantId, members, runId, since],
  ));
  if (!gone.length) return {};
  const changed = await applyFollows(m, tenantId, [...new Set(gone.map((g) => g.external_user_id))]);
  await contactsChangedSet(m, tenantId, changed);
  return { followsGone: gone.length };
}

/**
 * Groups WeCom no longer lists were dismissed there (`groupchat/list` leaves dismissed chats out, and their dismiss
 * callback may never have come): marked and emptied as the dismiss event does (the group, its tasks and history
 * stay; its memberships end without responses). Only groups not written since `before` (a callback may have created
 * one after the list was read), and when `listed` is given, only chats not in it.
 */
async function dismissGroupsGone(m: EntityManager, tenantId: string, before: Date | string, listed: string[] | null): Promise<number> {
  const groups = returned<{ id: string }>(await m.query(
    `UPDATE customer_groups SET wecom_dismissed_at = now(), updated_at = now()
      WHERE tenant_id = $1 AND wecom_chat_id IS NOT NULL AND wecom_dismissed_at IS NULL AND updated_at < $2
        AND ($3::text[] IS NULL OR NOT wecom_chat_id = ANY($3::text[]))
      RETURNING id`, [tenantId, before, listed]));
  if (!groups.length) return 0;
  // memberships ended and one group.members_changed per group that had members, in one statement
  const [{ contacts }] = await m.query(
    `WITH gone AS (DELETE FROM group_members WHERE tenant_id = $1 AND group_id = ANY($2::uuid[]) RETURNING group_id, contact_id),
     events AS (
       INSERT INTO domain_events (tenant_id, type, payload)
       SELECT $1, 'group.members_changed', jsonb_build_object('groupId', group_id, 'contactIds', jsonb_agg(contact_id)) FROM gone GROUP BY group_id
       RETURNING 1)
     SELECT coalesce((SELECT array_agg(DISTINCT contact_id) FROM gone), '{}') AS contacts, (SELECT count(*) FROM events) AS _`,
    [tenantId, groups.map((g) => g.id)]);
  await contactsChangedSet(m, tenantId, contacts);
  return groups.length;
}

/**
 * One page of customer groups, set-based: the groups upserted by their chat ids (name, owner = the owner's matched
 * user), then each group's members made exactly its external members that are our contacts, with one
 * `group.members_changed` per group whose members changed.
 */
async function writeGroupPage(m: EntityManager, tenantId: string, page: GroupChat[]): Promise<Record<string, number>> {
  const chats = [...new Map(page.map((c) => [c.chat_id, c])).values()]; // one row each: ON CONFLICT may not touch a row twice
  if (!chats.length) return {};
  const groups: { id: string; chat: string }[] = await m.query(
    `INSERT INTO customer_groups AS g (tenant_id, name, owner_id, wecom_chat_id)
     SELECT $1, x.name, (SELECT user_id FROM wecom_users WHERE tenant_id = $1 AND wecom_user_id = x.owner), x.chat
       FROM unnest($2::text[], $3::text[], $4::text[]) AS x(chat, name, owner) ORDER BY x.chat
     ON CONFLICT (tenant_id, wecom_chat_id) WHERE wecom_chat_id IS NOT NULL
     DO UPDATE SET name = EXCLUDED.name, owner_id = EXCLUDED.owner_id, updated_at = now()
     RETURNING g.id, g.wecom_chat_id AS chat`,
    [tenantId, chats.map((c) => c.chat_id), chats.map((c) => c.name ?? ''), chats.map((c) => c.owner ?? '')],
  );
  const idOf = new Map(groups.map((g) => [g.chat, g.id]));
  const members = chats.flatMap((c) => (c.member_list ?? []).filter((x) => x.type === 2).map((x) => ({ group: idOf.get(c.chat_id)!, e: x.userid })));
  const [r] = await m.query(
    `WITH wanted AS (
       SELECT DISTINCT x.group_id, c.id AS contact_id FROM unnest($3::uuid[], $4::text[]) AS x(group_id, e)
         JOIN contacts c ON c.tenant_id = $1 AND c.wecom_external_user_id = x.e
     ), removed AS (
       DELETE FROM group_members gm WHERE gm.group_id = ANY($2::uuid[])
          AND NOT EXISTS (SELECT 1 FROM wanted w WHERE w.group_id = gm.group_id AND w.contact_id = gm.contact_id)
       RETURNING gm.group_id, gm.contact_id
     ), added AS (
       INSERT INTO group_members (tenant_id, group_id, contact_id) SELECT $1, group_id, contact_id FROM wanted ORDER BY 2, 3
       ON CONFLICT DO NOTHING RETURNING group_id, contact_id
     ), changed AS (
       SELECT group_id, contact_id FROM added UNION ALL SELECT group_id, contact_id FROM removed
     ), events AS (
       INSERT INTO domain_events (tenant_id, type, payload)
       SELECT $1, 'group.members_changed', jsonb_build_object('groupId', group_id, 'contactIds', jsonb_agg(contact_id)) FROM changed GROUP BY group_id
     )
     SELECT (SELECT count(*) FROM added)::int AS joined, (SELECT count(*) FROM removed)::int AS left,
            (SELECT coalesce(array_agg(DISTINCT contact_id), '{}') FROM changed) AS changed`,
    [tenantId, groups.map((g) => g.id), members.map((x) => x.group), members.map((x) => x.e)],
  );
  await contactsChangedSet(m, tenantId, r.changed);
  return { groups: chats.length, groupJoins: r.joined, groupLeaves: r.left };
}
