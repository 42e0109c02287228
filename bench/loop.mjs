// Loop latency (issue 5, part 4): how long from a customer's response to its effect on SOPs, measured over
// HTTP with the real API, worker and wake relay on Postgres and a Temporal server:
// - reply -> exit: a signed `reply` event (POST /api/events) until the nurture enrollment is exited with its
//   pending task cancelled;
// - open -> enrollment: a tracked-link open of the nurture task's coupon, which a response rule turns into the
//   high-intent tag, until the contact is enrolled in the high-intent journey (and, separately, exited from
//   the nurture one).
// `measureLoop` is reusable: the inbox benchmark calls it with its own database and Temporal server;
// `npm run bench -- loop` runs it alone on a fresh database.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '../..');
const require = createRequire(import.meta.url);
const { p95 } = await import(join(ROOT, 'bench/lib.mjs'));

const TARGET_P95_MS = 2000;
const POLL_MS = 10;

/**
 * Starts the API (on a free port), a worker and the wake relay on `databaseUrl` and `temporalAddress`, seeds a
 * tenant with two journeys, then takes `samples` measurements of each kind, `concurrency` responses at a time.
 * Returns { loop_p95_ms, loop_exit_p95_ms, loop_enroll_p95_ms, loop_leave_p95_ms, loop_samples, loop_concurrency,
 * loop_relay_interval_ms }.
 */
export async function measureLoop({ databaseUrl, temporalAddress, samples = 50, relayIntervalMs, concurrency = 1, log = () => {} }) {
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
    JWT_SECRET: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent', PORT: '0',
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
  for (let i = 0; i < samples; i++) {
    repliers.push((await admin('POST', '/api/contacts', { externalId: `reply-${i}`, name: `R${i}`, ownerId: owner.id, tags: [productA.id] })).id);
    openers.push((await admin('POST', '/api/contacts', { externalId: `open-${i}`, name: `O${i}`, ownerId: owner.id, tags: [productA.id] })).id);
  }
  await admin('POST', `/api/sops/${nurtureSop.id}/activate`);
  await admin('POST', `/api/sops/${highSop.id}/activate`);
  await until(async () => (await db.query(`SELECT count(*)::int AS n FROM tasks WHERE sop_id = $1`, [nurtureSop.id]))[0].n === 2 * samples, 60_000, 'the nurture tasks');
  log(`loop: seeded ${2 * samples} contacts, each with a pending nurture task`);
  return { baseUrl, db, admin, key, nurtureSop: nurtureSop.id, highSop: highSop.id, repliers, openers };
}

async function replyToExit(w, i) {
  const raw = JSON.stringify({ id: `loop-reply-${i}`, type: 'reply', externalId: `reply-${i}` });
  const ts = Math.floor(Date.now() / 1000);
  const signature = `v1=${createHmac('sha256', w.key.signingSecret).update(`${ts}.${raw}`).digest('hex')}`;
  const started = performance.now();
  await http(w.baseUrl)('POST', '/api/events', raw, { 'x-api-key': w.key.key, 'x-sop-timestamp': String(ts), 'x-sop-signature': signature });
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
    const figures = await measureLoop({
      databaseUrl, temporalAddress: temporal.address, samples: Number(process.env.BENCH_LOOP_SAMPLES ?? 50),
      relayIntervalMs: process.env.BENCH_RELAY_MS ? Number(process.env.BENCH_RELAY_MS) : undefined,
      concurrency: Number(process.env.BENCH_LOOP_CONCURRENCY ?? 1), log,
    });
    const missed = figures.loop_p95_ms > TARGET_P95_MS ? [`loop p95 ${figures.loop_p95_ms} ms > ${TARGET_P95_MS} ms`] : [];
    return { figures: { bench: 'loop', ...figures }, missed };
  } finally {
    await temporal.stop();
  }
}
