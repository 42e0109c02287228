import type { Queryable } from '@sop/engine';
import { WecomApiError, type WecomClient, WecomUnreachable } from '@sop/wecom';
import type { DataSource } from 'typeorm';

/**
 * Our tags to WeCom (issue 16 item 3), run by the tenant's events workflow after its callback events, so one
 * tenant's changes go out in order and WeCom's own changes are applied first:
 * 1. tag definitions (`wecom_corp_tag_ops`, in id order): a tag created in a WeCom-linked group → `add_corp_tag`,
 *    renamed → `edit_corp_tag`, deleted → `del_corp_tag`; a group an admin pushed → `add_corp_tag` with its tags;
 * 2. contacts whose WeCom-linked tags changed here (`wecom_tag_pushes`): our state compared with the follows'
 *    corp tags (`wecom_follows`), and the difference marked (`mark_tag`): a tag no follower has is added on the
 *    follow of the contact's owner (else the earliest follow), a tag we no longer have is removed from every
 *    follower that has it (a contact's WeCom tags are the union over its followers).
 * Comparing state makes a retry and WeCom's callback for our own change harmless: what WeCom already shows is
 * not sent again, and the callback finds nothing to change. WeCom's refusals are kept on the row (shown on the
 * connection's status) and not retried; WeCom out of reach throws after saving what was done, so Temporal retries.
 */

/** Calls to WeCom at once (as for the events' fetches). */
const AT_ONCE = 8;

/** The refusal is the row's: kept and shown, not retried. Anything else (rate limits, out of reach) is retried. */
const refused = (err: unknown): err is WecomApiError => err instanceof WecomApiError && !err.retryable;

/**
 * Attempts of a tag operation failing with an error that is not WeCom's answer (ours, the database's, an answer we
 * cannot use) before it is recorded as failed: Temporal's retry backoff (1 s doubling) between them, about 15 s in
 * all. Retried forever it would hold the tenant's queue at its head. WeCom out of reach or rate-limiting is not
 * counted: it stops every push alike and is retried by Temporal until WeCom answers.
 */
export const MAX_OP_ATTEMPTS = 5;
/**
 * The same bound for a contact's tag push (`wecom_tag_pushes.attempts`): after 5 failures that are not WeCom's
 * answer the row is kept failed (`given_up`), not retried until the contact's tags change again (which starts the
 * count again), so one contact cannot keep the tenant's activity failing for ever.
 */
export const MAX_PUSH_ATTEMPTS = 5;
const wecomTransient = (err: unknown) => err instanceof WecomUnreachable || (err instanceof WecomApiError && err.retryable);

/** Rows of UPDATE … RETURNING through a CTE (TypeORM answers bare ones as [rows, count]). */
const returning = (m: Queryable, sql: string, params: unknown[]): Promise<any[]> => // eslint-disable-line @typescript-eslint/no-explicit-any
  m.query(`WITH changed AS (${sql}) SELECT * FROM changed`, params);

/**
 * SQL: a rename of the tag (or group) aliased `alias` made here waits to be sent to WeCom. While it waits, WeCom's
 * name (from the sync or a tag callback) is the old one and must not overwrite ours: the rename's push sends ours.
 */
export const PENDING_TAG_RENAME = (alias: string) =>
  `EXISTS (SELECT 1 FROM wecom_corp_tag_ops o WHERE o.tenant_id = ${alias}.tenant_id AND o.tag_id = ${alias}.id AND o.kind = 'rename_tag' AND o.done_at IS NULL)`;
export const PENDING_GROUP_RENAME = (alias: string) =>
  `EXISTS (SELECT 1 FROM wecom_corp_tag_ops o WHERE o.tenant_id = ${alias}.tenant_id AND o.group_id = ${alias}.id AND o.kind = 'rename_group' AND o.done_at IS NULL)`;

/** Marks the transaction's writes as WeCom's own (the definition triggers queue nothing for them). */
export const asWecomOrigin = (m: Queryable) => m.query(`SELECT set_config('sop.wecom_origin', 'on', true)`);
const endWecomOrigin = (m: Queryable) => m.query(`SELECT set_config('sop.wecom_origin', 'off', true)`);

interface OpRow {
  id: string;
  attempts: number;
  kind: 'create_tag' | 'rename_tag' | 'delete_tag' | 'create_group' | 'rename_group' | 'delete_group';
  tag_id: string | null;
  group_id: string | null;
  wecom_id: string | null;
}

type CorpTagAnswer = {
  errcode: number;
  tag_group?: { group_id: string; group_name: string; order?: number; tag?: { id: string; name: string; order?: number }[] }[] | {
    group_id: string; group_name: string; order?: number; tag?: { id: string; name: string; order?: number }[];
  };
};

/**
 * Pushes up to `limit` tag-definition operations in order; answers how many were done and whether more wait.
 * `retry`: an operation failed with an error that is not WeCom's and has attempts left; the operations after it
 * wait (order), the caller pushes contacts' tags still and then throws it, so Temporal retries with backoff.
 */
export async function pushCorpTagOps(db: DataSource, client: WecomClient, tenantId: string, limit = 50): Promise<{ done: number; more: boolean; retry?: Error }> {
  const ops: OpRow[] = await db.query(
    `SELECT id::text, attempts, kind, tag_id, group_id, wecom_id FROM wecom_corp_tag_ops WHERE tenant_id = $1 AND done_at IS NULL ORDER BY id LIMIT $2`,
    [tenantId, limit]);
  let done = 0;
  // one at a time, in order: a tag created before it is renamed, a group created before its tags are marked
  for (const op of ops) {
    let outcome: string | null = null;
    let error: string | null = null;
    const attempts = op.attempts + 1;
    try {
      outcome = await pushOp(db, client, tenantId, op);
    } catch (err) {
      if (wecomTransient(err)) throw err;
      error = err instanceof Error ? err.message : String(err);
      if (!refused(err)) {
        // ours, not WeCom's: counted (a database that cannot record it throws here, and counts nothing)
        await db.query(`UPDATE wecom_corp_tag_ops SET attempts = $3, last_error = $4 WHERE tenant_id = $1 AND id = $2`, [tenantId, op.id, attempts, error]);
        if (attempts < MAX_OP_ATTEMPTS) return { done, more: false, retry: err instanceof Error ? err : new Error(error) };
        error = `${error} (gave up after ${attempts} attempts)`;
      }
    }
    await db.query(`UPDATE wecom_corp_tag_ops SET done_at = now(), outcome = $3, error = $4 WHERE tenant_id = $1 AND id = $2`, [tenantId, op.id, outcome, error]);
    done++;
  }
  return { done, more: ops.length === limit };
}

async function pushOp(db: DataSource, client: WecomClient, tenantId: string, op: OpRow): Promise<string> {
  switch (op.kind) {
    case 'create_tag':
      return createTag(db, client, tenantId, op.tag_id!);
    case 'create_group':
      return createGroup(db, client, tenantId, op.group_id!);
    case 'rename_tag':
    case 'rename_group': {
      const [row] = op.kind === 'rename_tag'
        ? await db.query(`SELECT name, wecom_tag_id AS wecom_id FROM tags WHERE tenant_id = $1 AND id = $2`, [tenantId, op.tag_id])
        : await db.query(`SELECT name, wecom_group_id AS wecom_id FROM tag_groups WHERE tenant_id = $1 AND id = $2`, [tenantId, op.group_id]);
      if (!row?.wecom_id) return 'gone or unlinked since: nothing to rename';
      // the name now (several renames in a row cost one call); WeCom's name already: nothing to send
      const current = await corpName(client, op.kind === 'rename_tag' ? { tag_id: [row.wecom_id] } : { group_id: [row.wecom_id] }, row.wecom_id);
      if (current === row.name) return `already named "${row.name}" in WeCom`;
      await client.post('/cgi-bin/externalcontact/edit_corp_tag', { id: row.wecom_id, name: row.name });
      return `renamed to "${row.name}"`;
    }
    case 'delete_tag':
    case 'delete_group':
      try {
        await client.post('/cgi-bin/externalcontact/del_corp_tag', op.kind === 'delete_tag' ? { tag_id: [op.wecom_id] } : { group_id: [op.wecom_id] });
      } catch (err) {
        // 40068 invalid tagid: gone already (deleted in WeCom, or with its group, or by an earlier attempt)
        if (err instanceof WecomApiError && err.errcode === 40068) return `${op.wecom_id} was no longer in WeCom`;
        throw err;
      }
      return `${op.wecom_id} deleted in WeCom`;
  }
}

/** The corp tag's (or group's) name as WeCom lists it, or null when WeCom no longer has it. */
async function corpName(client: WecomClient, filter: { tag_id?: string[]; group_id?: string[] }, id: string): Promise<string | null> {
  const answer = await client.post<CorpTagAnswer>('/cgi-bin/externalcontact/get_corp_tag_list', filter);
  for (const g of (answer.tag_group ?? []) as { group_id: string; group_name: string; tag?: { id: string; name: string }[] }[]) {
    if (g.group_id === id) return g.group_name;
    const t = (g.tag ?? []).find((x) => x.id === id);
    if (t) return t.name;
  }
  return null;
}

/**
 * A tag created here in a WeCom-linked group: created in WeCom and linked. A tag of that name already in the
 * WeCom group (an earlier attempt whose answer was lost, or made there by hand) is linked instead of created twice.
 */
async function createTag(db: DataSource, client: WecomClient, tenantId: string, tagId: string): Promise<string> {
  const [tag] = await db.query(
    `SELECT t.name, t.wecom_tag_id, g.wecom_group_id FROM tags t JOIN tag_groups g ON g.id = t.group_id WHERE t.tenant_id = $1 AND t.id = $2`,
    [tenantId, tagId]);
  if (!tag) return 'deleted since: nothing to create';
  if (tag.wecom_tag_id) return `linked already (${tag.wecom_tag_id})`;
  if (!tag.wecom_group_id) return 'its group is no longer linked to WeCom: not created';
  const listed = await client.post<CorpTagAnswer>('/cgi-bin/externalcontact/get_corp_tag_list', { group_id: [tag.wecom_group_id] });
  const group = ((listed.tag_group ?? []) as { group_id: string; tag?: { id: string; name: string; order?: number }[] }[]).find((g) => g.group_id === tag.wecom_group_id);
  let created = group?.tag?.find((t) => t.name === tag.name);
  if (!created) {
    const answer = await client.post<CorpTagAnswer>('/cgi-bin/externalcontact/add_corp_tag', { group_id: tag.wecom_group_id, tag: [{ name: tag.name }] });
    created = (answer.tag_group as { tag?: { id: string; name: string; order?: number }[] }).tag?.[0];
  }
  if (!created) throw new Error('add_corp_tag answered no tag');
  await link(db, tenantId, [{ tagId, wecomTagId: created.id, order: created.order ?? 0 }]);
  return `created in WeCom as ${created.id}`;
}

/** A group an admin asked to push: created in WeCom with its tags, and linked with them. */
async function createGroup(db: DataSource, client: WecomClient, tenantId: string, groupId: string): Promise<string> {
  const [group] = await db.query(`SELECT name, wecom_group_id FROM tag_groups WHERE tenant_id = $1 AND id = $2`, [tenantId, groupId]);
  if (!group) return 'deleted since: nothing to create';
  if (group.wecom_group_id) return `linked already (${group.wecom_group_id})`;
  const tags: { id: string; name: string }[] = await db.query(`SELECT id, name FROM tags WHERE tenant_id = $1 AND group_id = $2 ORDER BY name`, [tenantId, groupId]);
  // WeCom merges into an existing group of that name (and refuses a tag name it holds: 40071), so only missing tags are sent
  const listed = await client.post<CorpTagAnswer>('/cgi-bin/externalcontact/get_corp_tag_list', {});
  const existing = ((listed.tag_group ?? []) as { group_id: string; group_name: string; tag?: { id: string; name: string; order?: number }[] }[])
    .find((g) => g.group_name === group.name);
  const have = new Map((existing?.tag ?? []).map((t) => [t.name, t]));
  const missing = tags.filter((t) => !have.has(t.name));
  let wecomGroupId = existing?.group_id;
  if (missing.length || !existing) {
    const answer = await client.post<CorpTagAnswer>('/cgi-bin/externalcontact/add_corp_tag', {
      ...(existing ? { group_id: existing.group_id } : { group_name: group.name }), tag: missing.map((t) => ({ name: t.name })),
    });
    const g = answer.tag_group as { group_id: string; tag?: { id: string; name: string; order?: number }[] };
    wecomGroupId = g.group_id;
    for (const t of g.tag ?? []) have.set(t.name, t);
  }
  await db.transaction(async (m) => {
    await asWecomOrigin(m);
    await m.query(`UPDATE tag_groups SET wecom_group_id = $3 WHERE tenant_id = $1 AND id = $2`, [tenantId, groupId, wecomGroupId]);
    await endWecomOrigin(m);
  });
  await link(db, tenantId, tags.filter((t) => have.has(t.name)).map((t) => ({ tagId: t.id, wecomTagId: have.get(t.name)!.id, order: have.get(t.name)!.order ?? 0 })));
  return `created in WeCom as ${wecomGroupId} with ${tags.length} tags`;
}

/** Links tags to their new corp tags and queues the contacts that hold them, to be marked in WeCom. */
async function link(db: DataSource, tenantId: string, links: { tagId: string; wecomTagId: string; order: number }[]): Promise<void> {
  if (!links.length) return;
  await db.transaction(async (m) => {
    await m.query(
      `UPDATE tags t SET wecom_tag_id = x.w, wecom_order = x.o FROM unnest($2::uuid[], $3::text[], $4::int[]) AS x(id, w, o)
        WHERE t.tenant_id = $1 AND t.id = x.id AND t.wecom_tag_id IS NULL`,
      [tenantId, links.map((l) => l.tagId), links.map((l) => l.wecomTagId), links.map((l) => l.order)]);
    await m.query(
      `INSERT INTO wecom_tag_pushes (tenant_id, contact_id)
       SELECT DISTINCT $1::uuid, ct.contact_id FROM contact_tags ct JOIN contacts c ON c.id = ct.contact_id AND c.wecom_external_user_id IS NOT NULL
        WHERE ct.tenant_id = $1 AND ct.tag_id = ANY($2::uuid[]) ORDER BY 2
       ON CONFLICT (tenant_id, contact_id) DO UPDATE SET version = wecom_tag_pushes.version + 1, queued_at = now(), error = NULL, failed_at = NULL,
         attempts = 0, last_error = NULL, given_up = false`,
      [tenantId, links.map((l) => l.tagId)]);
  });
}

interface PushRow {
  contact_id: string;
  version: string;
  external_user_id: string;
  owner_member: string | null;
  wanted: string[];
  follows: { userid: string; tags: string[] }[];
}

interface Mark {
  contactId: string;
  externalUserId: string;
  userid: string;
  add: string[];
  remove: string[];
}

/**
 * Marks the queued contacts' tags in WeCom, `batchSize` contacts at a time: one read for the batch (our tags,
 * the owner's member, the follows), the calls outside any transaction, then one transaction records what WeCom
 * now has (`wecom_follows`) and takes the rows off the queue (a row changed meanwhile stays for the next pass).
 */
export async function pushContactTags(db: DataSource, client: WecomClient, tenantId: string, batchSize = 200): Promise<{ pushed: number; failed: number; more: boolean }> {
  const rows: PushRow[] = await db.query(
    `SELECT p.contact_id, p.version::text, c.wecom_external_user_id AS external_user_id, ow.wecom_user_id AS owner_member,
            ARRAY(SELECT t.wecom_tag_id FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
                   WHERE ct.contact_id = c.id AND t.tenant_id = $1 AND t.wecom_tag_id IS NOT NULL ORDER BY 1) AS wanted,
            coalesce((SELECT jsonb_agg(jsonb_build_object('userid', f.wecom_user_id, 'tags', f.tag_ids) ORDER BY f.followed_at, f.wecom_user_id)
                        FROM wecom_follows f WHERE f.tenant_id = $1 AND f.external_user_id = c.wecom_external_user_id), '[]') AS follows
       FROM wecom_tag_pushes p
       JOIN contacts c ON c.id = p.contact_id AND c.tenant_id = $1
       LEFT JOIN wecom_users ow ON ow.tenant_id = $1 AND ow.user_id = c.owner_id
      WHERE p.tenant_id = $1 AND p.error IS NULL
      ORDER BY p.queued_at, p.contact_id LIMIT $2`,
    [tenantId, batchSize]);
  if (!rows.length) return { pushed: 0, failed: 0, more: false };
  const [{ linked }] = await db.query(`SELECT coalesce(array_agg(wecom_tag_id), '{}') AS linked FROM tags WHERE tenant_id = $1 AND wecom_tag_id IS NOT NULL`, [tenantId]);
  const linkedSet = new Set<string>(linked);
  // contacts no sync has seen the follows of (arrived by callback): their follows asked of WeCom
  const unknown = rows.filter((r) => !r.follows.length);
  const learned = await inPool(unknown, AT_ONCE, async (r) => {
    const answer = await client.get<{ errcode: number; follow_user?: { userid: string; createtime?: number; tags?: { tag_id: string; type: number }[] }[] }>(
      '/cgi-bin/externalcontact/get', { external_userid: r.external_user_id });
    const followers = answer.follow_user ?? [];
    if (!Array.isArray(followers) || followers.some((f) => typeof f?.userid !== 'string')) throw new Error('externalcontact/get answered no usable follow_user list');
    return followers.map((f) => ({ userid: f.userid, createtime: f.createtime ?? 0, tags: (f.tags ?? []).filter((t) => t.type === 1).map((t) => t.tag_id) }));
  });
  // WeCom's refusals: kept on the row, not retried. Ours (an error that is not WeCom's answer): counted, retried
  // MAX_PUSH_ATTEMPTS times. WeCom out of reach or rate-limiting: not counted, the activity retried until it answers.
  const errors = new Map<string, string>();
  const ours = new Map<string, string>();
  let transient: Error | null = null;
  const failedWith = (contactId: string, reason: unknown) => {
    if (refused(reason)) errors.set(contactId, reason.message);
    else if (wecomTransient(reason)) transient ??= reason as Error;
    else if (!ours.has(contactId)) ours.set(contactId, reason instanceof Error ? reason.message : String(reason));
  };
  const newFollows: { externalUserId: string; userid: string; createtime: number; tags: string[] }[] = [];
  unknown.forEach((r, i) => {
    const result = learned[i];
    if (result.status === 'fulfilled') {
      r.follows = result.value;
      newFollows.push(...result.value.map((f) => ({ externalUserId: r.external_user_id, ...f })));
    } else failedWith(r.contact_id, result.reason);
  });
  const marks: Mark[] = [];
  for (const r of rows) {
    if (errors.has(r.contact_id) || ours.has(r.contact_id) || !r.follows.length) continue;
    try {
      marks.push(...plan(r, linkedSet));
    } catch (err) {
      failedWith(r.contact_id, err);
    }
  }
  const results = await inPool(marks, AT_ONCE, (mk) => client.post('/cgi-bin/externalcontact/mark_tag', {
    userid: mk.userid, external_userid: mk.externalUserId, ...(mk.add.length ? { add_tag: mk.add } : {}), ...(mk.remove.length ? { remove_tag: mk.remove } : {}),
  }));
  const marked: Mark[] = [];
  results.forEach((result, i) => {
    if (result.status === 'fulfilled') marked.push(marks[i]);
    else failedWith(marks[i].contactId, result.reason);
  });
  const unfinished = new Set(transient ? marks.filter((mk, i) => results[i].status === 'rejected' && wecomTransient((results[i] as PromiseRejectedResult).reason)).map((mk) => mk.contactId) : []);
  if (transient) for (const [i, r] of unknown.entries()) if (learned[i].status === 'rejected' && wecomTransient((learned[i] as PromiseRejectedResult).reason)) unfinished.add(r.contact_id);
  for (const id of errors.keys()) ours.delete(id); // WeCom's refusal of one of its calls decides the row
  let gaveUp = 0;
  await db.transaction(async (m) => {
    if (newFollows.length) {
      await m.query(
        `INSERT INTO wecom_follows (tenant_id, external_user_id, wecom_user_id, followed_at, tag_ids)
         SELECT $1, x.e, x.u, to_timestamp(x.t), coalesce((SELECT array_agg(v) FROM jsonb_array_elements_text(x.tags) v), '{}')
           FROM unnest($2::text[], $3::text[], $4::float8[], $5::jsonb[]) AS x(e, u, t, tags)
         ON CONFLICT (tenant_id, external_user_id, wecom_user_id) DO NOTHING`,
        [tenantId, newFollows.map((f) => f.externalUserId), newFollows.map((f) => f.userid), newFollows.map((f) => f.createtime), newFollows.map((f) => JSON.stringify(f.tags))]);
    }
    if (marked.length) {
      // what WeCom now shows for each follow marked: its tags less those removed, plus those added
      await m.query(
        `UPDATE wecom_follows f SET tag_ids = ARRAY(
             SELECT DISTINCT v FROM unnest(f.tag_ids || ARRAY(SELECT jsonb_array_elements_text(x.a))) v
              WHERE NOT v = ANY(ARRAY(SELECT jsonb_array_elements_text(x.r))) ORDER BY 1)
           FROM unnest($2::text[], $3::text[], $4::jsonb[], $5::jsonb[]) AS x(e, u, a, r)
          WHERE f.tenant_id = $1 AND f.external_user_id = x.e AND f.wecom_user_id = x.u`,
        [tenantId, marked.map((mk) => mk.externalUserId), marked.map((mk) => mk.userid), marked.map((mk) => JSON.stringify(mk.add)), marked.map((mk) => JSON.stringify(mk.remove))]);
    }
    const finished = rows.filter((r) => !unfinished.has(r.contact_id) && !errors.has(r.contact_id) && !ours.has(r.contact_id));
    const failed = rows.filter((r) => errors.has(r.contact_id));
    const retried = rows.filter((r) => ours.has(r.contact_id) && !errors.has(r.contact_id));
    // ours: counted at the version read (a change made meanwhile started the count again); the 5th gives up
    const [{ n }] = await m.query(
      `WITH counted AS (
         UPDATE wecom_tag_pushes p SET attempts = p.attempts + 1, last_error = x.e,
                error = CASE WHEN p.attempts + 1 >= $5 THEN x.e || ' (gave up after ' || (p.attempts + 1) || ' attempts)' END,
                failed_at = CASE WHEN p.attempts + 1 >= $5 THEN now() END, given_up = p.attempts + 1 >= $5
           FROM unnest($2::uuid[], $3::bigint[], $4::text[]) AS x(c, v, e)
          WHERE p.tenant_id = $1 AND p.contact_id = x.c AND p.version = x.v RETURNING p.given_up)
       SELECT count(*) FILTER (WHERE given_up)::int AS n FROM counted`,
      [tenantId, retried.map((r) => r.contact_id), retried.map((r) => r.version), retried.map((r) => ours.get(r.contact_id)!), MAX_PUSH_ATTEMPTS]);
    gaveUp = n;
    // off the queue only at the version read: a change made meanwhile keeps the row for the next pass
    await m.query(
      `DELETE FROM wecom_tag_pushes p USING unnest($2::uuid[], $3::bigint[]) AS x(c, v) WHERE p.tenant_id = $1 AND p.contact_id = x.c AND p.version = x.v`,
      [tenantId, finished.map((r) => r.contact_id), finished.map((r) => r.version)]);
    await m.query(
      `UPDATE wecom_tag_pushes p SET error = x.e, failed_at = now() FROM unnest($2::uuid[], $3::bigint[], $4::text[]) AS x(c, v, e)
        WHERE p.tenant_id = $1 AND p.contact_id = x.c AND p.version = x.v`,
      [tenantId, failed.map((r) => r.contact_id), failed.map((r) => r.version), failed.map((r) => errors.get(r.contact_id)!)]);
  });
  if (transient) throw transient;
  // a push failing with an error of ours and attempts left: Temporal's retry (with backoff) tries it again
  if (ours.size > gaveUp) throw new Error(`tag push of ${ours.size - gaveUp} contact(s) failed, to be tried again: ${[...ours.values()][0]}`);
  return { pushed: rows.length - errors.size - ours.size, failed: errors.size + gaveUp, more: rows.length === batchSize };
}

/**
 * The mark_tag calls that make WeCom show the contact's linked tags: a tag no follower has goes on the owner's
 * follow (else the earliest); a linked tag we do not have comes off every follower that has it. Corp tags not
 * linked to ours are WeCom's business and left alone.
 */
export function plan(r: Pick<PushRow, 'contact_id' | 'external_user_id' | 'owner_member' | 'wanted' | 'follows'>, linked: Set<string>): Mark[] {
  const wanted = new Set(r.wanted);
  const shown = new Set(r.follows.flatMap((f) => f.tags));
  const target = r.follows.find((f) => f.userid === r.owner_member) ?? r.follows[0];
  const marks = new Map<string, Mark>();
  const mark = (userid: string) => marks.get(userid) ?? marks.set(userid, { contactId: r.contact_id, externalUserId: r.external_user_id, userid, add: [], remove: [] }).get(userid)!;
  const add = [...wanted].filter((t) => !shown.has(t));
  if (add.length) mark(target.userid).add.push(...add);
  for (const f of r.follows) {
    const remove = f.tags.filter((t) => linked.has(t) && !wanted.has(t));
    if (remove.length) mark(f.userid).remove.push(...remove);
  }
  return [...marks.values()];
}

/** `work` over `items`, at most `limit` at once, every outcome kept in the items' order. */
export async function inPool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) {
      results[i] = await work(items[i]).then((value) => ({ status: 'fulfilled', value }) as const, (reason) => ({ status: 'rejected', reason }) as const);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** The connection is gone: queued pushes say so instead of waiting for ever. */
export async function markUnconnected(db: DataSource, tenantId: string): Promise<void> {
  await returning(db, `UPDATE wecom_tag_pushes SET error = 'the organization has no WeCom connection', failed_at = now() WHERE tenant_id = $1 AND error IS NULL RETURNING contact_id`, [tenantId]);
}
