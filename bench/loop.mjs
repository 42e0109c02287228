// Loop latency (issue 5, part 4): how long from a customer's response to its effect on SOPs, measured over
// HTTP with the real API, worker and wake relay on Postgres and a Temporal server:
// - reply -> exit: a signed `reply` event (POST /api/events) until the nurture enrollment is exited with its
//   pending task cancelled;
// - open -> enrollment: a tracked-link open of the nurture task's coupon, which a response rule turns into the
//   high-intent tag, until the contact is enrolled in the high-intent journey (and, separately, exited from
//   the nurture one).
// `measureLoop` is reusable: the inbox benchmark calls it with its own database and Temporal server;
// `npm run bench -- loop` runs it alone on a fresh database, then again paced (issue 14, "Honest baselines"):
// BENCH_LOOP_RATE responses a second (default 50, half replies and half coupon opens, each sent on its schedule
// whether or not the earlier ones have had their effect) for BENCH_LOOP_DURATION_S seconds (default 60), each
// timed to its effect; target p95 ≤ 2 s for both runs.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '../..');
const require = createRequire(import.meta.url);
const { p95 } = await import(join(ROOT, 'bench/lib.mjs'));

const TARGET_P95_MS = 2000;
const POLL_MS = 10;
/** The paced run: one poller reads every pending response's enrollments at this interval (not one poll per response). */
const PACED_POLL_MS = 25;

/**
 * Starts the API (on a free port), a worker and the wake relay on `databaseUrl` and `temporalAddress`, seeds a
 * tenant with two journeys, then takes `samples` measurements of each kind, `concurrency` responses at a time.
 * Returns { loop_p95_ms, loop_exit_p95_ms, loop_enroll_p95_ms, loop_leave_p95_ms, loop_samples, loop_concurrency,
 * loop_relay_interval_ms }.
 */
export async function measureLoop({ databaseUrl, temporalAddress, samples = 50, relayIntervalMs, concurrency = 1, rate, durationS, log = () => {} }) {
  const { createApp, loadConfig } = require(join(ROOT, 'apps/api/dist'));
  const { createEngineWorker, startWakeRelay } = require(join(ROOT, 'apps/worker/dist'));
  const { dataSourceOptions } = require(join(ROOT, 'libs/db/dist'));
  const { DataSource } = require('typeorm');
  const { NativeConnection, Runtime, makeTelemetryFilterString } = require('@temporalio/worker');
  const { Client, Connection } = require('@temporalio/client');
  try {
    Runtime.install({ logger: quietLogger, telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
  } catch { /* installed already by the caller */ }

  const taskQueue = `bench-loop-${randomUUID()}`;
  const app = await createApp(loadConfig({
    DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_TASK_QUEUE: taskQueue,
    // the paced run logs the API's errors (a 500 says only its request id)
    JWT_SECRET: randomBytes(32).toString('hex'), LOG_LEVEL: process.env.BENCH_API_LOG_LEVEL ?? (rate ? 'error' : 'silent'), PORT: '0',
  }));
  await app.listen(0, '127.0.0.1');
  const baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const db = await new DataSource(dataSourceOptions(databaseUrl, { extra: { max: 6 } })).initialize();
  const connection = await NativeConnection.connect({ address: temporalAddress });
  const worker = await createEngineWorker({ connection, namespace: 'default', db, taskQueue, identity: 'bench-loop' });
  const running = worker.run();
  const clientConnection = await Connection.connect({ address: temporalAddress });
  const relay = await startWakeRelay(db, new Client({ connection: clientConnection }), relayIntervalMs ? { intervalMs: relayIntervalMs } : {});
  try {
    if (rate) {
      const w = await seed(baseUrl, db, Math.ceil((rate * durationS) / 2), log);
      // BENCH_LOOP_ANALYZE=1: statistics for the rows just seeded before the paced run (by default autovacuum decides,
      // as in production; on a fresh database the exit pass is then planned without them, docs/measurements.md).
      if (process.env.BENCH_LOOP_ANALYZE === '1') await db.query('ANALYZE');
      const figures = await measurePaced(w, rate, durationS, relayIntervalMs, log);
      figures.loop_paced_dispatchers = await dispatcherActivities(new Client({ connection: clientConnection }), { nurture: w.nurtureSop, high: w.highSop });
      log(`loop, paced: the dispatchers' passes (activity: count, run p50/p95 ms, queued p95 ms): ${JSON.stringify(figures.loop_paced_dispatchers)}`);
      return figures;
    }
    const world = await seed(baseUrl, db, samples, log);
    const exits = [];
    const enrolls = [];
    const leaves = [];
    // `concurrency` responses of each kind at once per round (separate requests, as from several systems and people).
    for (let i = 0; i < samples; i += concurrency) {
      const round = Array.from({ length: Math.min(concurrency, samples - i) }, (_, k) => i + k);
      exits.push(...(await Promise.all(round.map((j) => replyToExit(world, j)))));
      for (const { enrollMs, leaveMs } of await Promise.all(round.map((j) => openToEnrollment(world, j)))) {
        enrolls.push(enrollMs);
        leaves.push(leaveMs);
      }
    }
    const all = [...exits, ...enrolls, ...leaves];
    log(`loop: reply -> exit p50 ${median(exits)} ms, p95 ${p95(exits)} ms; open -> enrollment p50 ${median(enrolls)} ms, ` +
      `p95 ${p95(enrolls)} ms; open -> nurture exit p95 ${p95(leaves)} ms`);
    return {
      loop_p95_ms: p95(all), loop_exit_p95_ms: p95(exits), loop_enroll_p95_ms: p95(enrolls), loop_leave_p95_ms: p95(leaves),
      loop_samples: samples, loop_concurrency: concurrency, loop_relay_interval_ms: relayIntervalMs ?? 500,
    };
  } finally {
    await relay.stop();
    worker.shutdown();
    await running;
    await clientConnection.close();
    await connection.close();
    await app.close();
    await db.destroy();
  }
}

/** `n` calls of `fn(i)`, `size` at a time. */
async function inBatches(n, size, fn) {
  for (let i = 0; i < n; i += size) await Promise.all(Array.from({ length: Math.min(size, n - i) }, (_, k) => fn(i + k)));
}

/**
 * The paced run: `rate` responses a second for `durationS` seconds, alternately a signed reply event (its effect:
 * the nurture enrollment exited) and a tracked-link open of the coupon (response -> high-intent tag -> segment ->
 * enrollment in the high-intent journey, and exit from the nurture one). Each is sent at its own time, without
 * waiting for earlier ones (an open loop, as customers do not wait for each other); its latency runs from just
 * before its request to its last effect seen. A response that has no effect 30 s after the last was sent counts as
 * missed. The tracked links are read from the inbox before the clock starts.
 */
async function measurePaced(w, rate, durationS, relayIntervalMs, log) {
  const tasks = new Map((await w.db.query(`SELECT id::text, contact_id::text FROM tasks WHERE sop_id = $1`, [w.nurtureSop])).map((r) => [r.contact_id, r.id]));
  const links = [];
  await inBatches(w.openers.length, 10, async (i) => {
    links[i] = (await w.admin('GET', `/api/inbox/tasks/${tasks.get(w.openers[i])}`)).materials[0].trackedPath;
  });
  const total = Math.round(rate * durationS);
  const pending = new Map(); // contact id -> the response waiting for its effect
  const results = [];
  const errors = [];
  const userAgent = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 MicroMessenger/8.0.40';
  let stop = false;
  // One poller for all pending responses: their contacts' enrollments in the two journeys, every PACED_POLL_MS.
  const poller = (async () => {
    while (!stop || pending.size) {
      if (pending.size) {
        const rows = await w.db.query(
          `SELECT contact_id::text, sop_id::text, status FROM enrollments WHERE sop_id = ANY($1::uuid[]) AND contact_id = ANY($2::uuid[])`,
          [[w.nurtureSop, w.highSop], [...pending.keys()]]);
        const seenAt = performance.now();
        for (const row of rows) {
          const r = pending.get(row.contact_id);
          if (!r || r.started === undefined) continue;
          if (row.sop_id === w.nurtureSop && row.status === 'exited') r.exitMs ??= seenAt - r.started;
          if (row.sop_id === w.highSop) r.enrollMs ??= seenAt - r.started;
        }
        for (const [contactId, r] of pending) {
          if (r.exitMs !== undefined && (r.kind === 'reply' || r.enrollMs !== undefined)) {
            pending.delete(contactId);
            results.push(r);
          } else if (r.deadline && performance.now() > r.deadline) {
            pending.delete(contactId);
            results.push({ ...r, missed: true });
          }
        }
      }
      await new Promise((resolve) => setTimeout(resolve, PACED_POLL_MS));
    }
  })();
  // What Postgres is doing meanwhile: active backends sampled every 50 ms (one connection), tallied by wait and statement.
  const activity = new Map();
  let samples = 0;
  const sampler = (async () => {
    while (!stop) {
      const rows = await w.db.query(
        `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait, left(regexp_replace(query, '\\s+', ' ', 'g'), 70) AS query
           FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'`);
      samples++;
      for (const r of rows) activity.set(`${r.wait} | ${r.query}`, (activity.get(`${r.wait} | ${r.query}`) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const sends = [];
  let lateMs = 0;
  const t0 = performance.now();
  for (let k = 0; k < total; k++) {
    const at = t0 + (k * 1000) / rate;
    const wait = at - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const i = Math.floor(k / 2);
    const r = k % 2 === 0 ? { kind: 'reply', contactId: w.repliers[i] } : { kind: 'open', contactId: w.openers[i] };
    pending.set(r.contactId, r);
    r.started = performance.now();
    lateMs = Math.max(lateMs, r.started - at);
    sends.push((r.kind === 'reply' ? sendReply(w, i) : fetch(`${w.baseUrl}${links[i]}`, { redirect: 'manual', headers: { 'user-agent': userAgent } })
      .then((res) => { if (res.status !== 302) throw new Error(`tracked link: ${res.status}`); })).catch((err) => errors.push(String(err))));
  }
  const sentS = (performance.now() - t0) / 1000;
  await Promise.all(sends);
  const deadline = performance.now() + 30_000;
  for (const r of pending.values()) r.deadline = deadline;
  stop = true;
  await poller;
  await sampler;
  const busiest = [...activity].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([what, n]) => `${(n / samples).toFixed(2)} ${what}`);
  log(`loop, paced: Postgres backends active on average (of ${samples} samples), by wait and statement:\n  ${busiest.join('\n  ')}`);
  // An effect not seen 30 s after the last response was sent has no latency: it counts as longer than any (Infinity,
  // null in the JSON), so a p95 is null past 5 % of its effects missing.
  const latency = (ms) => (ms === undefined ? Infinity : Math.round(ms));
  const exits = results.filter((r) => r.kind === 'reply').map((r) => latency(r.exitMs));
  const enrolls = results.filter((r) => r.kind === 'open').map((r) => latency(r.enrollMs));
  const leaves = results.filter((r) => r.kind === 'open').map((r) => latency(r.exitMs));
  const all = [...exits, ...enrolls, ...leaves];
  const missed = results.filter((r) => r.missed).length;
  const missing = (xs) => xs.filter((x) => x === Infinity).length;
  const figures = {
    loop_paced_p95_ms: p95(all), loop_paced_exit_p95_ms: p95(exits), loop_paced_enroll_p95_ms: p95(enrolls), loop_paced_leave_p95_ms: p95(leaves),
    loop_paced_p50_ms: median(all), loop_paced_max_ms: Math.max(...all),
    loop_paced_responses: total, loop_paced_rate_per_s: rate, loop_paced_sent_per_s: Math.round((total / sentS) * 10) / 10,
    loop_paced_send_late_max_ms: Math.round(lateMs), loop_paced_missed: missed,
    loop_paced_missing_effects: { exit: missing(exits), enroll: missing(enrolls), leave: missing(leaves) }, loop_paced_errors: errors.length,
    loop_paced_duration_s: durationS, loop_paced_relay_interval_ms: relayIntervalMs ?? 500,
  };
  log(`loop, paced at ${rate}/s for ${durationS} s (${total} responses, sent at ${figures.loop_paced_sent_per_s}/s, at most ${figures.loop_paced_send_late_max_ms} ms late): `
    + `reply -> exit p50 ${median(exits)} ms, p95 ${p95(exits)} ms; open -> enrollment p50 ${median(enrolls)} ms, p95 ${p95(enrolls)} ms; `
    + `open -> nurture exit p95 ${p95(leaves)} ms; ${missed} missed, ${errors.length} errors${errors.length ? ` (first: ${errors[0]})` : ''}`);
  return figures;
}

/**
 * Where a dispatcher's time went, from its workflow history (the current run): per activity type, how many ran,
 * their run time (started to completed) p50 and p95, and their wait in the task queue (scheduled to started) p95.
 */
async function dispatcherActivities(client, sops) {
  const { workflowIds } = require(join(ROOT, 'libs/temporal/dist'));
  const out = {};
  for (const [name, sopId] of Object.entries(sops)) {
    const { events } = await client.workflow.getHandle(workflowIds.sopDispatcher(sopId)).fetchHistory();
    const ms = (e) => Number(e.eventTime.seconds) * 1000 + e.eventTime.nanos / 1e6;
    const byId = new Map(events.map((e) => [String(e.eventId), e]));
    const stats = {};
    for (const e of events) {
      const done = e.activityTaskCompletedEventAttributes;
      if (!done) continue;
      const scheduled = byId.get(String(done.scheduledEventId));
      const started = byId.get(String(done.startedEventId));
      const type = scheduled.activityTaskScheduledEventAttributes.activityType.name;
      (stats[type] ??= { run: [], queued: [] }).run.push(ms(e) - ms(started));
      stats[type].queued.push(ms(started) - ms(scheduled));
    }
    out[name] = Object.fromEntries(Object.entries(stats).map(([type, { run, queued }]) =>
      [type, [run.length, Math.round(median(run)), Math.round(p95(run)), Math.round(p95(queued))]]));
  }
  return out;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function http(baseUrl, headers = {}) {
  return async (method, path, body, extra = {}) => {
    const raw = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const res = await fetch(`${baseUrl}${path}`, { method, redirect: 'manual', headers: { 'content-type': 'application/json', ...headers, ...extra }, body: raw });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
}

/** A tenant with a nurture journey (exit on reply or on leaving the segment) and a high-intent one. */
async function seed(baseUrl, db, samples, log) {
  const signup = await http(baseUrl)('POST', '/api/auth/signup',
    { organization: `Loop bench ${randomUUID().slice(0, 8)}`, name: 'Bench', email: `loop-${randomUUID()}@bench.example`, password: `pw-${randomUUID()}` });
  const admin = http(baseUrl, { authorization: `Bearer ${signup.accessToken}` });
  const group = await admin('POST', '/api/tag-groups', { name: 'Intent', exclusive: true });
  const products = await admin('POST', '/api/tag-groups', { name: 'Products' });
  const high = await admin('POST', '/api/tags', { groupId: group.id, name: 'High', kind: 'behaviour' });
  const productA = await admin('POST', '/api/tags', { groupId: products.id, name: 'Product A' });
  const nurture = await admin('POST', '/api/segments', { name: 'Nurture', rule: { all: [{ tag: productA.id }, { not: { tag: high.id } }] } });
  const highIntent = await admin('POST', '/api/segments', { name: 'High intent', rule: { tag: high.id } });
  const owner = await admin('POST', '/api/users', { email: `loop-emp-${randomUUID()}@bench.example`, name: 'Executor', role: 'employee', password: `pw-${randomUUID()}` });
  const step = (name, offsetDays, materials = []) => ({ name, offsetDays, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat',
    content: { template: name, materials }, executor: { rule: 'contactOwner' } });
  const coupon = { title: 'Coupon', url: 'https://shop.example/coupon' };
  const nurtureSop = await admin('POST', '/api/sops', { name: 'Nurture', definition: { kind: 'journey', audience: { segmentId: nurture.id },
    entry: { includeExistingMembers: true }, steps: [step('Coupon', 0, [coupon]), step('Check in', 7)],
    policies: { businessDaysOnly: false, exitOn: [{ on: 'leftSegment' }, { on: 'replied' }] } } });
  const highSop = await admin('POST', '/api/sops', { name: 'High intent', definition: { kind: 'journey', audience: { segmentId: highIntent.id },
    steps: [step('Call', 0)], policies: { businessDaysOnly: false } } });
  await admin('POST', '/api/response-rules', { name: 'Opened the coupon', when: { kind: 'opened', material: coupon.title }, then: { addTagIds: [high.id] } });
  const key = await admin('POST', '/api/api-keys', { name: 'Loop bench', role: 'ops' });
  const repliers = [];
  const openers = [];
  await inBatches(samples, 10, async (i) => {
    repliers[i] = (await admin('POST', '/api/contacts', { externalId: `reply-${i}`, name: `R${i}`, ownerId: owner.id, tags: [productA.id] })).id;
    openers[i] = (await admin('POST', '/api/contacts', { externalId: `open-${i}`, name: `O${i}`, ownerId: owner.id, tags: [productA.id] })).id;
  });
  await admin('POST', `/api/sops/${nurtureSop.id}/activate`);
  await admin('POST', `/api/sops/${highSop.id}/activate`);
  await until(async () => (await db.query(`SELECT count(*)::int AS n FROM tasks WHERE sop_id = $1`, [nurtureSop.id]))[0].n === 2 * samples, 120_000, 'the nurture tasks');
  log(`loop: seeded ${2 * samples} contacts, each with a pending nurture task`);
  return { baseUrl, db, admin, key, nurtureSop: nurtureSop.id, highSop: highSop.id, repliers, openers };
}

/** A signed `reply` event from contact `reply-<i>`. */
function sendReply(w, i) {
  const raw = JSON.stringify({ id: `loop-reply-${i}`, type: 'reply', externalId: `reply-${i}` });
  const ts = Math.floor(Date.now() / 1000);
  const signature = `v1=${createHmac('sha256', w.key.signingSecret).update(`${ts}.${raw}`).digest('hex')}`;
  return http(w.baseUrl)('POST', '/api/events', raw, { 'x-api-key': w.key.key, 'x-sop-timestamp': String(ts), 'x-sop-signature': signature });
}

async function replyToExit(w, i) {
  const started = performance.now();
  await sendReply(w, i);
  await until(() => status(w.db, w.nurtureSop, w.repliers[i]).then((s) => s === 'exited'), 30_000, `reply ${i}'s exit`);
  return Math.round(performance.now() - started);
}

async function openToEnrollment(w, i) {
  const [{ id }] = await w.db.query(`SELECT id::text FROM tasks WHERE sop_id = $1 AND contact_id = $2`, [w.nurtureSop, w.openers[i]]);
  const { materials } = await w.admin('GET', `/api/inbox/tasks/${id}`);
  const started = performance.now();
  // a phone's user agent: Node's own is counted as a script, and its open would not be recorded
  const res = await fetch(`${w.baseUrl}${materials[0].trackedPath}`, { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 MicroMessenger/8.0.40' } });
  if (res.status !== 302) throw new Error(`tracked link: ${res.status}`);
  let leaveMs;
  await until(async () => {
    if (leaveMs === undefined && (await status(w.db, w.nurtureSop, w.openers[i])) === 'exited') leaveMs = Math.round(performance.now() - started);
    // Any enrollment counts: a one-step journey completes its enrollment in the pass that enrolls it.
    return (await status(w.db, w.highSop, w.openers[i])) !== undefined;
  }, 30_000, `open ${i}'s enrollment`);
  const enrollMs = Math.round(performance.now() - started);
  await until(() => status(w.db, w.nurtureSop, w.openers[i]).then((s) => s === 'exited'), 30_000, `open ${i}'s nurture exit`);
  return { enrollMs, leaveMs: leaveMs ?? Math.round(performance.now() - started) };
}

const status = async (db, sopId, contactId) =>
  (await db.query(`SELECT status FROM enrollments WHERE sop_id = $1 AND contact_id = $2 ORDER BY id DESC LIMIT 1`, [sopId, contactId]))[0]?.status;

async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m, a) => console.error(m, a ?? '') };

/** `npm run bench -- loop`: a Temporal dev server of its own, then measureLoop. */
export async function run({ databaseUrl, log }) {
  const { freePort } = await import(join(ROOT, 'tools/lib/proc.mjs'));
  const { startTemporal } = await import(join(ROOT, 'tools/lib/infra.mjs'));
  const temporal = await startTemporal({ port: await freePort() });
  try {
    const relayIntervalMs = process.env.BENCH_RELAY_MS ? Number(process.env.BENCH_RELAY_MS) : undefined;
    const figures = await measureLoop({
      databaseUrl, temporalAddress: temporal.address, samples: Number(process.env.BENCH_LOOP_SAMPLES ?? 50), relayIntervalMs,
      concurrency: Number(process.env.BENCH_LOOP_CONCURRENCY ?? 1), log,
    });
    const missed = figures.loop_p95_ms > TARGET_P95_MS ? [`loop p95 ${figures.loop_p95_ms} ms > ${TARGET_P95_MS} ms`] : [];
    // BENCH_LOOP_RATE=0 leaves the paced run out.
    const rate = Number(process.env.BENCH_LOOP_RATE ?? 50);
    if (rate > 0) {
      const paced = await measureLoop({ databaseUrl, temporalAddress: temporal.address, relayIntervalMs, rate, durationS: Number(process.env.BENCH_LOOP_DURATION_S ?? 60), log });
      Object.assign(figures, paced);
      if (!(paced.loop_paced_p95_ms <= TARGET_P95_MS)) missed.push(`loop at ${rate} responses/s p95 ${paced.loop_paced_p95_ms} ms > ${TARGET_P95_MS} ms`);
      if (paced.loop_paced_errors) missed.push(`${paced.loop_paced_errors} responses failed at ${rate}/s`);
      // The load generator must keep the pace for the figure to mean 50 a second.
      if (paced.loop_paced_sent_per_s < rate * 0.95) missed.push(`sent only ${paced.loop_paced_sent_per_s} responses/s of ${rate}`);
    }
    figures.load_avg_1m = Math.round(loadavg()[0] * 100) / 100;
    return { figures: { bench: 'loop', ...figures }, missed };
  } finally {
    await temporal.stop();
  }
}
