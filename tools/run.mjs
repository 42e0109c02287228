#!/usr/bin/env node
// The one run command (`npm start`): installs what is missing, builds, starts Postgres and Temporal,
// migrates, seeds the demo organization, starts the API and the worker, prints every URL, and on
// Ctrl-C stops everything it started.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { elapsed, freePort, log, portOpen, stopChild, warn } from './lib/proc.mjs';
import { build, ensureDependencies, ROOT, startEmbeddedPostgres, startTemporal } from './lib/infra.mjs';
import { migrate } from './migrate.mjs';

const started = Date.now();
const DATA = join(ROOT, '.data');
const stops = [];
let stopping = false;

const numberEnv = (name, fallback) => Number(process.env[name] ?? fallback);

/** The default port if free, otherwise any free one (said out loud). */
async function pickPort(preferred, what) {
  if (!(await portOpen(preferred))) return preferred;
  const port = await freePort();
  warn(`Port ${preferred} is busy: ${what} uses ${port} instead.`);
  return port;
}

/** A local JWT secret, made once and kept in the git-ignored data folder so logins survive restarts. */
function localJwtSecret() {
  const file = join(DATA, 'jwt-secret');
  if (!existsSync(file)) writeFileSync(file, randomBytes(48).toString('base64url'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

function startService(name, script, env) {
  const child = spawn(process.execPath, [join(ROOT, script)], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true, // stopped in order by shutdown()
  });
  const prefix = (stream, out) => {
    let rest = '';
    stream.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop();
      for (const line of lines) out.write(`\x1b[2m[${name}]\x1b[0m ${line}\n`);
    });
  };
  prefix(child.stdout, process.stdout);
  prefix(child.stderr, process.stderr);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      warn(`${name} exited (${signal ?? `code ${code}`}); stopping everything.`);
      shutdown(1);
    }
  });
  stops.push(() => stopChild(child));
  return child;
}

async function waitReady(url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = JSON.stringify(await res.json());
    } catch (err) {
      last = err.message;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`The API did not become ready within ${timeoutMs / 1000}s: ${last}`);
}

async function main() {
  await ensureDependencies();
  await build();
  mkdirSync(DATA, { recursive: true });

  let databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) log('Using DATABASE_URL.');
  else {
    const pg = await startEmbeddedPostgres({
      dataDir: join(DATA, 'postgres'), port: await pickPort(numberEnv('PG_PORT', 54329), 'Postgres'), database: 'sop',
    });
    stops.push(pg.stop);
    databaseUrl = pg.url;
  }

  const temporal = await startTemporal({
    port: await pickPort(numberEnv('TEMPORAL_PORT', 7233), 'Temporal'),
    uiPort: await pickPort(numberEnv('TEMPORAL_UI_PORT', 8233), 'the Temporal UI'),
    dbFile: join(DATA, 'temporal.db'),
    logFile: join(DATA, 'temporal.log'),
  });
  stops.push(temporal.stop);

  const ran = await migrate(databaseUrl);
  log(ran.length ? `Applied migrations: ${ran.join(', ')}` : 'Database schema is up to date.');
  const api = createRequire(import.meta.url)(join(ROOT, 'apps/api/dist/index.js'));
  const { DataSource } = createRequire(import.meta.url)('typeorm');
  const { dataSourceOptions } = createRequire(import.meta.url)(join(ROOT, 'libs/db/dist/index.js'));
  const db = await new DataSource(dataSourceOptions(databaseUrl)).initialize();
  const seeded = await api.seedDemo(db).finally(() => db.destroy());
  log(seeded.created ? 'Seeded the demo organization.' : 'Demo organization already present.');

  const port = await pickPort(numberEnv('PORT', 3000), 'the API');
  const jwtSecret = process.env.JWT_SECRET ?? localJwtSecret();
  const env = {
    DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporal.address, PORT: String(port),
    JWT_SECRET: jwtSecret,
    // the API seals tenants' WeCom secrets and the worker opens them: one key for both (the API's local fallback)
    WECOM_SECRET_KEYS: process.env.WECOM_SECRET_KEYS ?? (({ id, secret }) => `${id}:${secret}`)(api.localWecomKey(jwtSecret)),
    // People read this console: one short line per request (LOG_FORMAT=json gives the production format).
    LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty',
  };
  startService('worker', 'apps/worker/dist/main.js', env);
  startService('api', 'apps/api/dist/main.js', env);
  const base = `http://localhost:${port}`;
  await waitReady(`${base}/health/ready`);
  if (seeded.created) {
    const work = await api.seedDemoWork(base, api.DEMO_PASSWORD);
    log(`Demo work: ${work.contacts} customers and the journey "${work.sop}", active; the worker fills the employees' inboxes.`);
  }

  const pad = (s, n) => s + ' '.repeat(Math.max(1, n - [...s].length));
  console.log(`
\x1b[1mSOP engine is running\x1b[0m (started in ${elapsed(started)})

  Web app           ${base}/
  API               ${base}/api
  OpenAPI docs      ${base}/docs   (JSON: ${base}/docs-json)
  Health            ${base}/health/ready
  Metrics           ${base}/metrics
  Temporal UI       ${temporal.uiUrl ?? '(external server: see its own UI)'}
  Temporal gRPC     ${temporal.address}

  Demo logins for "${api.DEMO_ORGANIZATION}" (password for all: ${api.DEMO_PASSWORD})
${api.DEMO_USERS.map((u) => `    ${pad(u.role, 10)}${pad(u.email, 26)}${u.name}`).join('\n')}

  Press Ctrl-C to stop everything.
`);
}

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  log('Stopping…');
  // Reverse start order: API and worker first, then Temporal, then Postgres.
  for (const stop of stops.reverse()) await stop().catch((e) => warn(`while stopping: ${e.message}`));
  log('Stopped. Nothing is left running.');
  process.exit(code);
}

process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));
process.on('SIGHUP', () => shutdown(0));
main().catch((err) => {
  warn(err?.stack ?? String(err));
  shutdown(1);
});
