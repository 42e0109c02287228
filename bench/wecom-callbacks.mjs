// `npm run bench -- wecom-callbacks`: WeCom's callback under load (issue 16). The built API and the built worker
// each in its own process as deployed (the worker at its WORKER_NICE; `BENCH_WORKER_NICE=0` runs it at the API's
// priority), a Temporal dev server, a local WeCom (token, app check, externalcontact/get) in this process, and
// WeCom's side sending from a thread of its own (bench/support/callback-sender.mjs). A connected organization receives `BENCH_WECOM_RATE` encrypted, signed callbacks a second
// (official @wecom/crypto) for `BENCH_WECOM_SECONDS` seconds, each a customer added by an employee
// (add_external_contact, so each one is fetched from WeCom and upserted). Measured: the answer's p95 and how long
// after the last answer every event has been applied. Targets: p95 <= 100 ms, all applied within 10 s. Also the CPU
// seconds per 1,000 callbacks of the API, the worker, Postgres and Temporal (first callback to all applied).
import { createRequire } from 'node:module';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { URLSearchParams } from 'node:url';
import { join } from 'node:path';
import { loadavg } from 'node:os';

const { ROOT, cpuMeter, p95, postgresPids, postmasterOf, startApi, waitFor } = await import('./lib.mjs');
const require = createRequire(import.meta.url);
const { encrypt, getSignature } = require('@wecom/crypto');

const TARGET_ACK_P95_MS = 100;
const TARGET_PROCESSED_S = 10;

/** The part of WeCom the callback path calls: tokens, the app check on connect, one external contact. */
function localWecom(corp) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://local');
    req.resume();
    req.on('end', () => {
      const answer = url.pathname === '/cgi-bin/gettoken'
        ? { errcode: 0, errmsg: 'ok', access_token: randomBytes(16).toString('hex'), expires_in: 7200 }
        : url.pathname === '/cgi-bin/agent/get'
          ? { errcode: 0, errmsg: 'ok', agentid: Number(corp.agentId), name: 'bench' }
          : url.pathname === '/cgi-bin/externalcontact/get'
            ? {
              errcode: 0, errmsg: 'ok',
              external_contact: { external_userid: url.searchParams.get('external_userid'), name: `客户 ${url.searchParams.get('external_userid')}`, type: 1 },
              follow_user: [{ userid: 'bench-member', createtime: 1700000000, tags: [], state: '' }],
            }
            : { errcode: 404, errmsg: 'no such API' };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${server.address().port}` })));
}

const contactAdded = (corp, n) =>
  `<xml><ToUserName><![CDATA[${corp.corpId}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime>`
  + `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType>`
  + `<UserID><![CDATA[bench-member]]></UserID><ExternalUserID><![CDATA[wmBENCH${n}]]></ExternalUserID><WelcomeCode><![CDATA[W${n}]]></WelcomeCode></xml>`;

/** The request WeCom would send for `message`: encrypted and signed with WeCom's own package. */
function delivery(corp, message) {
  const timestamp = Math.floor(Date.now() / 1000);
  const nonce = randomBytes(6).toString('hex');
  const encrypted = encrypt(corp.encodingAesKey, message, corp.corpId);
  const query = new URLSearchParams({ msg_signature: getSignature(corp.callbackToken, timestamp, nonce, encrypted), timestamp: String(timestamp), nonce });
  return { query, body: `<xml><ToUserName><![CDATA[${corp.corpId}]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt><AgentID><![CDATA[${corp.agentId}]]></AgentID></xml>` };
}

export async function run({ databaseUrl, log }) {
  const rate = Number(process.env.BENCH_WECOM_RATE ?? 1000);
  const seconds = Number(process.env.BENCH_WECOM_SECONDS ?? 5);
  const { freePort } = await import(join(ROOT, 'tools/lib/proc.mjs'));
  const { startTemporal } = await import(join(ROOT, 'tools/lib/infra.mjs'));
  const { dataSourceOptions } = require(join(ROOT, 'libs/db/dist'));
  const { DataSource } = require('typeorm');

  const corp = {
    corpId: `ww${randomBytes(8).toString('hex')}`, agentId: '1000002', contactSecret: randomBytes(32).toString('base64url'),
    agentSecret: randomBytes(32).toString('base64url'), callbackToken: randomBytes(12).toString('hex'),
    encodingAesKey: randomBytes(32).toString('base64').slice(0, 43),
  };
  const wecom = await localWecom(corp);
  const temporal = await startTemporal({ port: await freePort() });
  const secretKeys = [{ id: 'bench', secret: randomBytes(32).toString('hex') }];
  const taskQueue = `bench-wecom-${randomUUID()}`;
  const port = await freePort();
  const api = startApi({
    DATABASE_URL: databaseUrl, PORT: String(port), JWT_SECRET: randomBytes(32).toString('hex'), TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: taskQueue, WECOM_SECRET_KEYS: `bench:${secretKeys[0].secret}`, WECOM_API_BASE: wecom.base,
  });
  const db = await new DataSource(dataSourceOptions(databaseUrl, { extra: { max: 6 } })).initialize();
  // the worker as deployed: its own process, at its own priority (WORKER_NICE; BENCH_WORKER_NICE overrides)
  const worker = await startWorker({
    DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporal.address, TEMPORAL_TASK_QUEUE: taskQueue, WECOM_SECRET_KEYS: `bench:${secretKeys[0].secret}`,
    WECOM_API_BASE: wecom.base, ...(process.env.BENCH_WORKER_NICE ? { WORKER_NICE: process.env.BENCH_WORKER_NICE } : {}),
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${base}/health`);
    const signup = await (await fetch(`${base}/api/auth/signup`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ organization: 'Bench WeCom', name: 'Bench', email: `bench-${randomBytes(4).toString('hex')}@bench.example`, password: 'bench-password' }),
    })).json();
    const connected = await (await fetch(`${base}/api/wecom/connection`, {
      method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${signup.accessToken}` }, body: JSON.stringify(corp),
    })).json();
    if (!connected.callbackUrl) throw new Error(`connect failed: ${JSON.stringify(connected)}`);
    const path = new URL(connected.callbackUrl).pathname;
    const [{ tenant_id: tenantId }] = await db.query(`SELECT tenant_id FROM wecom_connections WHERE corp_id = $1`, [corp.corpId]);
    await db.query(`INSERT INTO wecom_users (tenant_id, wecom_user_id, name) VALUES ($1, 'bench-member', 'bench')`, [tenantId]);

    const total = rate * seconds;
    log(`Encrypting ${total} callbacks…`);
    const requests = Array.from({ length: total }, (_, n) => delivery(corp, contactAdded(corp, n)));
    log(`Sending ${rate} a second for ${seconds} s…`);
    // CPU seconds of each process from the first callback until every event is applied: less sensitive than wall
    // time to what else runs on the machine (the bench's own sender and this process are not counted)
    const [{ pid: backend }] = await db.query('SELECT pg_backend_pid() AS pid');
    const postmaster = postmasterOf(backend);
    const load1m = Math.round(loadavg()[0] * 100) / 100;
    const cpu = {
      api: cpuMeter(() => [api.pid]), worker: cpuMeter(() => [worker.pid]), postgres: cpuMeter(() => postgresPids(postmaster)),
      ...(temporal.pid ? { temporal: cpuMeter(() => [temporal.pid]) } : {}),
    };
    const { acks, flights, failures, sentS } = await sendFromAnotherThread({
      url: `${base}${path}`, requests: requests.map(({ query, body }) => ({ query: query.toString(), body })), rate,
      sockets: Number(process.env.BENCH_WECOM_SOCKETS ?? 64),
    });
    const lastAck = performance.now();
    for (;;) {
      const [{ waiting }] = await db.query(`SELECT count(*)::int AS waiting FROM wecom_callback_events WHERE tenant_id = $1 AND processed_at IS NULL`, [tenantId]);
      if (!waiting) break;
      if (performance.now() - lastAck > 120_000) throw new Error(`${waiting} events still waiting after 120 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const processedS = (performance.now() - lastAck) / 1000;
    const perThousand = Object.fromEntries(Object.entries(cpu).map(([name, meter]) => [`${name}_cpu_s_per_1000`, Math.round(meter.stop() / total * 1000 * 1000) / 1000]));
    const [{ contacts, errors }] = await db.query(
      `SELECT (SELECT count(*)::int FROM contacts WHERE tenant_id = $1) AS contacts,
              (SELECT count(*)::int FROM wecom_callback_events WHERE tenant_id = $1 AND error IS NOT NULL) AS errors`, [tenantId]);
    const served = await answeredWithin(base, TARGET_ACK_P95_MS);
    const figures = {
      bench: 'wecom-callbacks', callbacks: total, callbacks_per_s: Math.round(total / sentS), callback_ack_p95_ms: Math.round(p95(acks) * 10) / 10,
      callback_on_connection_p95_ms: Math.round(p95(flights) * 10) / 10,
      callbacks_processed_s: Math.round(processedS * 10) / 10, api_answered_within_100ms_share: served, contacts, event_errors: errors, ack_failures: failures.length,
      ...perThousand, load_1m_at_start: load1m,
    };
    log(`callbacks: ${JSON.stringify(figures)}`);
    const missed = [];
    if (failures.length) missed.push(`${failures.length} callbacks not answered "success" (first: ${failures[0]})`);
    if (figures.callback_ack_p95_ms > TARGET_ACK_P95_MS) missed.push(`ack p95 ${figures.callback_ack_p95_ms} ms > ${TARGET_ACK_P95_MS} ms`);
    if (processedS > TARGET_PROCESSED_S) missed.push(`all applied ${figures.callbacks_processed_s} s after the last answer > ${TARGET_PROCESSED_S} s`);
    if (contacts !== total || errors) missed.push(`${contacts} contacts for ${total} events, ${errors} event errors`);
    return { figures, missed };
  } finally {
    await stopWorker(worker);
    await db.destroy();
    api.kill('SIGTERM');
    wecom.server.close();
    await temporal.stop();
  }
}

/**
 * The share of callbacks the API itself answered within `ms` (its request-duration histogram at /metrics, from the
 * request reaching the app to the answer): beside the time WeCom's side saw, it tells the API's own time from time
 * spent before the request was read (queued on a connection, or the machine's CPUs busy elsewhere).
 */
async function answeredWithin(base, ms) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const counts = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith('sop_api_http_request_duration_seconds_bucket{') || !line.includes('route="/api/wecom/callback/:callbackId"')
      || !line.includes('method="POST"')) continue;
    const le = line.match(/le="([^"]+)"/)[1];
    counts.set(le, (counts.get(le) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return Math.round((counts.get(String(ms / 1000)) / counts.get('+Inf')) * 1000) / 1000;
}

/** Sends the callbacks on the clock from bench/support/callback-sender.mjs and answers what it timed. */
function sendFromAnotherThread(workerData) {
  return new Promise((resolve, reject) => {
    const sender = new Worker(new URL('./support/callback-sender.mjs', import.meta.url), { workerData });
    sender.once('message', resolve);
    sender.once('error', reject);
  });
}

/** The built worker (apps/worker/dist/main.js) with the namespace-wide Schedules left alone; resolves once it polls. */
function startWorker(env) {
  const child = spawn(process.execPath, [join(ROOT, 'apps/worker/dist/main.js')], {
    env: {
      ...process.env, LOG_LEVEL: 'info', SILENCE_SWEEP_SCHEDULE: 'off', REMINDER_SWEEP_SCHEDULE: 'off', WECOM_SYNC_SCHEDULE: 'off',
      WECOM_INCREMENTAL_SCHEDULE: 'off', WECOM_MASS_SEND_SCHEDULE: 'off', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let seen = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      seen = (seen + chunk).slice(-20_000);
      if (seen.includes('"worker started"')) resolve(child);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`the worker exited (${code ?? signal}) before polling:\n${seen}`)));
  });
}

/** SIGTERM, as compose stops it: running activities finish first. */
async function stopWorker(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
