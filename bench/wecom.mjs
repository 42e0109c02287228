// WeCom full sync benchmark (issue 16, the sync part of its target). On a fresh database: an organization with
// BENCH_WECOM_MEMBERS employees (200) connected to a local WeCom serving a corporation of those members,
// BENCH_WECOM_CONTACTS external contacts (500,000; each followed by one member, every tenth by a second, each with
// one of 50 corp tags in 10 groups) and BENCH_WECOM_GROUPS customer groups (2,000, 50 customers each). The full
// sync's activities run as the workflow runs them (members, tags, contact pages, group pages, finish), in an
// activity context of their own (no Temporal server: the bench harness provides Postgres only; Temporal adds one
// activity task per minute of work). Then the same rows are inserted directly, set-based, in a second
// organization, in the same run, as the sync leaves them (each contact inserted with its owner, tag and tag_nums;
// tag events with the sync's actor, so neither queues WeCom tag pushes), in one transaction, in key order.
// Targets: the full sync within 120 s, and within 3x the direct inserts. After the full sync, callbacks naming
// BENCH_WECOM_DIRTY members (2) and as many chats are kept and the incremental sync runs the same way (reported,
// no target: what it costs next to the full sync).
// BENCH_WECOM_PROFILE=1 logs the time spent per SQL statement (by its first words) and in the local WeCom's
// handlers, for the sync and for the direct inserts. Then the callback part of the bench runs
// (bench/wecom-callbacks.mjs) and its figures complete the last line.
import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '../..');
const require = createRequire(import.meta.url);
const { DataSource } = require('typeorm');
const { MockActivityEnvironment } = require('@temporalio/testing');
const { dataSourceOptions } = require(join(ROOT, 'libs/db/dist'));
const { WecomAccess } = require(join(ROOT, 'libs/wecom/dist'));
const { createActivities } = require(join(ROOT, 'apps/worker/dist'));
const { timed } = await import(join(ROOT, 'bench/lib.mjs'));
const PROFILE = Boolean(process.env.BENCH_WECOM_PROFILE);

const MEMBERS = Number(process.env.BENCH_WECOM_MEMBERS ?? 200);
const CONTACTS = Number(process.env.BENCH_WECOM_CONTACTS ?? 500_000);
const GROUPS = Number(process.env.BENCH_WECOM_GROUPS ?? 2000);
const DIRTY = Number(process.env.BENCH_WECOM_DIRTY ?? 2);
const PER_GROUP = 50;
const TAGS = 50;
const TARGET_S = 120;
const TARGET_RATIO = 3;

const member = (i) => `m${String(i).padStart(4, '0')}`;
const contactId = (k) => `wm${String(k).padStart(7, '0')}`;
const tagId = (t) => `et${t}`;

/** The contacts member u follows, in a stable order: k ≡ u (mod MEMBERS), and every tenth contact of the member before. */
function followedBy(u) {
  const ks = [];
  for (let k = u; k < CONTACTS; k += MEMBERS) ks.push([k, k]);
  const prev = (u + MEMBERS - 1) % MEMBERS;
  for (let k = prev; k < CONTACTS; k += MEMBERS) if (k % 10 === 0) ks.push([k, CONTACTS + k]);
  return ks; // [contact, createtime]
}

/** A WeCom stand-in answering only what the sync calls, with the shapes of WeCom's reference (tokens never expire). */
function startWecom() {
  const lists = new Map(); // member -> pairs, built once
  const pairsOf = (u) => lists.get(u) ?? lists.set(u, followedBy(u)).get(u);
  const routes = {
    '/cgi-bin/gettoken': () => ({ errcode: 0, access_token: randomBytes(8).toString('hex'), expires_in: 7200 }),
    '/cgi-bin/user/list_id': () => ({ errcode: 0, next_cursor: '', dept_user: Array.from({ length: MEMBERS }, (_, i) => ({ userid: member(i), department: 1 })) }),
    '/cgi-bin/user/get': (q) => ({ errcode: 0, userid: q.get('userid'), name: `员工 ${q.get('userid')}`, email: `${q.get('userid')}@bench.example` }),
    '/cgi-bin/externalcontact/get_follow_user_list': () => ({ errcode: 0, follow_user: Array.from({ length: MEMBERS }, (_, i) => member(i)) }),
    '/cgi-bin/externalcontact/get_corp_tag_list': () => ({
      errcode: 0,
      tag_group: Array.from({ length: 10 }, (_, g) => ({
        group_id: `etg${g}`, group_name: `标签组 ${g}`, order: g, create_time: 1,
        tag: Array.from({ length: TAGS / 10 }, (_, j) => ({ id: tagId(g * (TAGS / 10) + j), name: `标签 ${g}-${j}`, order: j, create_time: 1 })),
      })),
    }),
    '/cgi-bin/externalcontact/batch/get_by_user': (_, body) => {
      const offset = Number(body.cursor || 0);
      const limit = Math.min(100, Number(body.limit ?? 50));
      const out = [];
      let skip = offset;
      for (const userid of body.userid_list) {
        const pairs = pairsOf(Number(userid.slice(1)));
        if (skip >= pairs.length) { skip -= pairs.length; continue; }
        for (const [k, t] of pairs.slice(skip, skip + limit - out.length)) {
          out.push({
            external_contact: { external_userid: contactId(k), name: `客户 ${k}`, type: 1 },
            follow_info: { userid, createtime: t, tag_id: [tagId(k % TAGS)], remark: '', description: '' },
          });
        }
        skip = 0;
        if (out.length === limit) break;
      }
      const total = body.userid_list.reduce((n, u) => n + pairsOf(Number(u.slice(1))).length, 0);
      return { errcode: 0, external_contact_list: out, next_cursor: offset + out.length < total ? String(offset + out.length) : '' };
    },
    '/cgi-bin/externalcontact/groupchat/list': (_, body) => {
      const offset = Number(body.cursor || 0);
      const end = Math.min(GROUPS, offset + Math.min(1000, Number(body.limit)));
      return { errcode: 0, group_chat_list: Array.from({ length: end - offset }, (_, i) => ({ chat_id: `wr${offset + i}`, status: 0 })), next_cursor: end < GROUPS ? String(end) : '' };
    },
    '/cgi-bin/externalcontact/groupchat/get': (_, body) => {
      const i = Number(String(body.chat_id).slice(2));
      return {
        errcode: 0,
        group_chat: {
          chat_id: body.chat_id, name: `客户群 ${i}`, owner: member(i % MEMBERS), create_time: 1,
          member_list: [{ userid: member(i % MEMBERS), type: 1, join_time: 1, join_scene: 1 },
            ...Array.from({ length: PER_GROUP }, (_, j) => ({ userid: contactId((i * PER_GROUP + j) % CONTACTS), type: 2, join_time: 1, join_scene: 1 }))],
        },
      };
    },
  };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const t = performance.now();
      const url = new URL(req.url, 'http://local');
      const route = routes[url.pathname];
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(route ? { errmsg: 'ok', ...route(url.searchParams, body) } : { errcode: 404, errmsg: 'no such API' }));
      if (PROFILE) profile.add(`wecom ${url.pathname}`, performance.now() - t);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${server.address().port}` })));
}

/** BENCH_WECOM_PROFILE=1: milliseconds spent per SQL statement (by its first words) and in the stand-in's handlers. */
const profile = {
  totals: new Map(),
  add(key, ms) {
    const x = this.totals.get(key) ?? { n: 0, ms: 0 };
    x.n++;
    x.ms += ms;
    this.totals.set(key, x);
  },
  /** Times every query of node-postgres's clients (the bench's one process: the activities' and the direct inserts'). */
  hook() {
    const { Client } = require(require.resolve('pg', { paths: [require.resolve('typeorm')] }));
    const query = Client.prototype.query;
    Client.prototype.query = function (config, ...rest) {
      const text = typeof config === 'string' ? config : config?.text ?? '';
      const key = `sql ${text.replace(/\s+/g, ' ').trim().slice(0, 90)}`;
      const t = performance.now();
      const done = () => profile.add(key, performance.now() - t);
      const cb = rest.findIndex((x) => typeof x === 'function');
      if (cb >= 0) {
        const f = rest[cb];
        rest[cb] = (...a) => { done(); return f(...a); };
        return query.call(this, config, ...rest);
      }
      const r = query.call(this, config, ...rest);
      if (r && typeof r.then === 'function') r.then(done, done);
      return r;
    };
  },
  report(log, label) {
    const rows = [...this.totals.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25);
    log(`  profile (${label}), top statements and handlers by time:`);
    for (const [k, { n, ms }] of rows) log(`    ${(ms / 1000).toFixed(2).padStart(8)} s ${String(n).padStart(7)}x  ${k}`);
    this.totals.clear();
  },
};

/** An organization with MEMBERS employees, emailed as WeCom has them (plus `suffix`: emails are unique across organizations). */
async function organization(db, name, suffix = '') {
  const [{ id }] = await db.query(`INSERT INTO tenants (name) VALUES ($1) RETURNING id`, [name]);
  await db.query(
    `INSERT INTO users (tenant_id, email, name, role, password_hash)
     SELECT $1, 'm' || lpad(g::text, 4, '0') || $2 || '@bench.example', '员工 ' || g, 'employee', 'x' FROM generate_series(0, $3::int - 1) g`,
    [id, suffix, MEMBERS],
  );
  return id;
}

/** The full sync as wecomSyncWorkflow runs it, each activity in an activity context. */
async function fullSync(acts, tenantId, log) {
  const env = new MockActivityEnvironment();
  const runId = await env.run(acts.openWecomSync, tenantId);
  const phases = {};
  const phase = async (name, work) => { const [ms] = await timed(work); phases[name] = Math.round(ms); log(`  ${name}: ${(ms / 1000).toFixed(1)} s`); };
  await phase('members', () => env.run(acts.syncWecomMembers, tenantId, runId));
  await phase('tags', () => env.run(acts.syncWecomTags, tenantId, runId));
  await phase('contacts', async () => { while (!(await env.run(acts.syncWecomContacts, tenantId, runId)).done); });
  await phase('groups', async () => { while (!(await env.run(acts.syncWecomGroups, tenantId, runId)).done); });
  await phase('finish', () => env.run(acts.finishWecomSync, tenantId, runId, null));
  const [run] = await acts.db.query(`SELECT status, counts FROM wecom_sync_runs WHERE id = $1`, [runId]);
  return { run, phases };
}

/** Callbacks naming `DIRTY` members and chats (kept as the API keeps them), then the incremental sync as wecomSyncWorkflow runs it. */
async function incrementalSync(acts, tenantId, log) {
  const members = Array.from({ length: DIRTY }, (_, i) => member(i * Math.floor(MEMBERS / DIRTY)));
  const chats = Array.from({ length: DIRTY }, (_, i) => `wr${i * Math.floor(GROUPS / DIRTY)}`);
  await acts.db.query(
    `INSERT INTO wecom_callback_events (tenant_id, digest, event, change_type, payload, processed_at, outcome)
     SELECT $1::uuid, 'bench-' || x.u, 'change_external_contact', 'edit_external_contact',
            jsonb_build_object('Event', 'change_external_contact', 'ChangeType', 'edit_external_contact', 'UserID', x.u, 'ExternalUserID', 'wm0000000'), now(), 'bench'
       FROM unnest($2::text[]) x(u)
     UNION ALL
     SELECT $1::uuid, 'bench-' || x.c, 'change_external_chat', 'update', jsonb_build_object('Event', 'change_external_chat', 'ChangeType', 'update', 'ChatId', x.c), now(), 'bench'
       FROM unnest($3::text[]) x(c)`,
    [tenantId, members, chats],
  );
  const env = new MockActivityEnvironment();
  const { runId, kind } = await env.run(acts.openWecomSyncRun, tenantId, 'incremental');
  const phases = {};
  const phase = async (name, work) => { const [ms] = await timed(work); phases[name] = Math.round(ms); log(`  ${name}: ${(ms / 1000).toFixed(1)} s`); };
  await phase('members', () => env.run(acts.syncWecomMembers, tenantId, runId));
  await phase('tags', () => env.run(acts.syncWecomTags, tenantId, runId));
  await phase('contacts', async () => { while (!(await env.run(acts.syncWecomDirtyContacts, tenantId, runId)).done); });
  await phase('groups', async () => { while (!(await env.run(acts.syncWecomDirtyGroups, tenantId, runId)).done); });
  await phase('finish', () => env.run(acts.finishWecomSync, tenantId, runId, null));
  const [run] = await acts.db.query(`SELECT status, kind, counts FROM wecom_sync_runs WHERE id = $1`, [runId]);
  return { run: { ...run, kind }, phases };
}

/** The same rows inserted directly, set-based: users' matches, tags, contacts, follows, contact tags and their events, groups and members. */
async function directInsert(db, tenantId) {
  await db.transaction(async (m) => {
    await m.query(
      `INSERT INTO wecom_users (tenant_id, wecom_user_id, name, email, user_id, matched_by)
       SELECT $1, 'm' || lpad(g::text, 4, '0'), '员工', 'x', u.id, 'email' FROM generate_series(0, $2::int - 1) g
         JOIN users u ON u.tenant_id = $1 AND u.email = 'm' || lpad(g::text, 4, '0') || '-direct@bench.example'`, [tenantId, MEMBERS]);
    await m.query(`INSERT INTO tag_groups (tenant_id, name, wecom_group_id, wecom_order) SELECT $1, '标签组 ' || g, 'etg' || g, g FROM generate_series(0, 9) g`, [tenantId]);
    await m.query(
      `INSERT INTO tags (tenant_id, group_id, name, kind, wecom_tag_id, wecom_order)
       SELECT $1, tg.id, '标签 ' || t, 'manual', 'et' || t, t FROM generate_series(0, $2::int - 1) t
         JOIN tag_groups tg ON tg.tenant_id = $1 AND tg.wecom_group_id = 'etg' || (t / ($2::int / 10))`, [tenantId, TAGS]);
    // Each contact with its owner and its tag (and the tag_nums copy) from the start, as the sync inserts them.
    await m.query(
      `INSERT INTO contacts (tenant_id, external_id, name, wecom_external_user_id, owner_id, tag_nums)
       SELECT $1, 'wecom:wm' || lpad(k::text, 7, '0'), '客户 ' || k, 'wm' || lpad(k::text, 7, '0'),
              (SELECT user_id FROM wecom_users WHERE tenant_id = $1 AND wecom_user_id = 'm' || lpad((k % $3::int)::text, 4, '0')),
              ARRAY[(SELECT num FROM tags WHERE tenant_id = $1 AND wecom_tag_id = 'et' || (k % $4::int))]
         FROM generate_series(0, $2::int - 1) k`, [tenantId, CONTACTS, MEMBERS, TAGS]);
    await m.query(
      `INSERT INTO wecom_follows (tenant_id, external_user_id, wecom_user_id, followed_at, tag_ids)
       SELECT $1::uuid, 'wm' || lpad(k::text, 7, '0'), 'm' || lpad((k % $3::int)::text, 4, '0'), to_timestamp(k), ARRAY['et' || (k % $4::int)] FROM generate_series(0, $2::int - 1) k
       UNION ALL
       SELECT $1::uuid, 'wm' || lpad(k::text, 7, '0'), 'm' || lpad(((k + 1) % $3::int)::text, 4, '0'), to_timestamp($2::int + k), ARRAY['et' || (k % $4::int)] FROM generate_series(0, $2::int - 1, 10) k`,
      [tenantId, CONTACTS, MEMBERS, TAGS]);
    // The tag events' actor is the sync's ('system' / 'wecom'): the WeCom tag push trigger queues nothing for them.
    await m.query(
      `WITH added AS (
         INSERT INTO contact_tags (tenant_id, contact_id, tag_id, tag_num)
         SELECT $1, c.id, t.id, t.num FROM contacts c JOIN tags t ON t.tenant_id = $1 AND t.num = c.tag_nums[1]
          WHERE c.tenant_id = $1 RETURNING contact_id, tag_id
       )
       INSERT INTO tag_events (tenant_id, contact_id, tag_id, action, actor_type, actor_id, reason)
       SELECT $1, contact_id, tag_id, 'added', 'system', 'wecom', 'WeCom sync' FROM added`, [tenantId]);
    await m.query(
      `INSERT INTO customer_groups (tenant_id, name, owner_id, wecom_chat_id)
       SELECT $1, '客户群 ' || i, (SELECT user_id FROM wecom_users WHERE tenant_id = $1 AND wecom_user_id = 'm' || lpad((i % $3::int)::text, 4, '0')), 'wr' || i
         FROM generate_series(0, $2::int - 1) i`, [tenantId, GROUPS, MEMBERS]);
    await m.query(
      `INSERT INTO group_members (tenant_id, group_id, contact_id)
       SELECT $1, g.id, c.id FROM customer_groups g CROSS JOIN generate_series(0, $2::int - 1) j
         JOIN contacts c ON c.tenant_id = $1 AND c.wecom_external_user_id = 'wm' || lpad(((substr(g.wecom_chat_id, 3)::int * $2::int + j) % $3::int)::text, 7, '0')
        WHERE g.tenant_id = $1 ON CONFLICT DO NOTHING`, [tenantId, PER_GROUP, CONTACTS]);
  });
}

/**
 * The whole bench: the sync part below, then the callback part (bench/wecom-callbacks.mjs: its own
 * organization on the same database), their figures in one line.
 */
export async function run({ databaseUrl, log }) {
  const sync = await runSync({ databaseUrl, log });
  log('Callbacks (bench/wecom-callbacks.mjs, its own organization on the same database)…');
  const { run: runCallbacks } = await import('./wecom-callbacks.mjs');
  const callbacks = await runCallbacks({ databaseUrl, log });
  const { callbacks_per_s, callback_ack_p95_ms, callbacks_processed_s, api_answered_within_100ms_share } = callbacks.figures;
  return {
    figures: { ...sync.figures, callbacks_per_s, callback_ack_p95_ms, callbacks_processed_s, api_answered_within_100ms_share },
    missed: [...sync.missed, ...callbacks.missed],
  };
}

async function runSync({ databaseUrl, log }) {
  const db = await new DataSource(dataSourceOptions(databaseUrl, { extra: { max: 4 } })).initialize();
  const { server, base } = await startWecom();
  try {
    const access = new WecomAccess({ secretKeys: [{ id: 'bench', secret: randomBytes(32).toString('hex') }], apiBase: base });
    const synced = await organization(db, 'Synced');
    const seal = (v) => access.box.seal(v);
    await db.query(
      `INSERT INTO wecom_connections (tenant_id, corp_id, agent_id, contact_secret, agent_secret, callback_token, encoding_aes_key, secrets_last4, callback_id)
       VALUES ($1, 'wwbench', '1000002', $2, $3, $4, $5, '{}', $6)`,
      [synced, seal('contact-secret'), seal('agent-secret'), seal('token'), seal('k'.repeat(43)), randomBytes(16).toString('hex')],
    );
    const acts = Object.assign(createActivities(db, 'bench', undefined, access), { db });
    log(`Full sync of ${MEMBERS} members, ${CONTACTS} contacts, ${GROUPS} groups from the local WeCom…`);
    if (PROFILE) profile.hook();
    const [syncMs, { run: syncRun, phases }] = await timed(() => fullSync(acts, synced, log));
    log(`  run ${syncRun.status}: ${JSON.stringify(syncRun.counts)}`);
    if (PROFILE) profile.report(log, 'full sync');
    const [{ n: contacts }] = await db.query(`SELECT count(*)::int AS n FROM contacts WHERE tenant_id = $1`, [synced]);
    log(`Incremental sync after callbacks naming ${DIRTY} members and ${DIRTY} chats…`);
    const [incrementalMs, { run: incRun, phases: incPhases }] = await timed(() => incrementalSync(acts, synced, log));
    log(`  run ${incRun.kind} ${incRun.status}: ${JSON.stringify(incRun.counts)}`);
    const direct = await organization(db, 'Direct', '-direct');
    log('The same rows inserted directly…');
    const [insertMs] = await timed(() => directInsert(db, direct));
    log(`  ${(insertMs / 1000).toFixed(1)} s`);
    if (PROFILE) profile.report(log, 'direct inserts');
    const figures = {
      bench: 'wecom', contacts, full_sync_s: Math.round(syncMs / 100) / 10, direct_insert_s: Math.round(insertMs / 100) / 10,
      sync_vs_insert_ratio: Math.round((syncMs / insertMs) * 100) / 100, phases_ms: phases,
      incremental_sync_s: Math.round(incrementalMs / 100) / 10, incremental_dirty_members: DIRTY, incremental_contact_pairs: incRun.counts.contactPairs ?? 0,
      incremental_phases_ms: incPhases,
      callbacks_per_s: null, callback_ack_p95_ms: null, callbacks_processed_s: null, // filled in by run(), from the callback part
    };
    const missed = [];
    if (syncRun.status !== 'succeeded') missed.push(`the sync ${syncRun.status}`);
    if (incRun.status !== 'succeeded' || incRun.kind !== 'incremental') missed.push(`the incremental sync ${incRun.kind} ${incRun.status}`);
    if (contacts !== CONTACTS) missed.push(`${contacts} contacts synced, not ${CONTACTS}`);
    if (figures.full_sync_s > TARGET_S) missed.push(`full sync ${figures.full_sync_s} s > ${TARGET_S} s`);
    if (figures.sync_vs_insert_ratio > TARGET_RATIO) missed.push(`sync/insert ${figures.sync_vs_insert_ratio} > ${TARGET_RATIO}`);
    return { figures, missed };
  } finally {
    server.close();
    await db.destroy();
  }
}
