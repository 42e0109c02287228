#!/usr/bin/env node
// The one test command (`npm test`): installs what is missing, builds, lints, provisions a real
// Postgres, a real Temporal dev server and the time-skipping test server, then runs every Jest
// test against them and prints a closing "N passed, N failed" line.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { capture, elapsed, freePort, log, run, warn } from './lib/proc.mjs';
import {
  build, ensureChromium, ensureDependencies, ensureSchemathesis, ensureTimeSkippingServer, findOrBuildTemporalCli, postgresVersion, ROOT,
  startEmbeddedPostgres, startTemporal,
} from './lib/infra.mjs';

const started = Date.now();
const dataDir = join(ROOT, '.data');
const stops = [];

async function main() {
  await ensureDependencies();
  await build();
  log('Linting…');
  await run(process.execPath, [join(ROOT, 'node_modules/eslint/bin/eslint.js'), '.'], { cwd: ROOT });
  mkdirSync(dataDir, { recursive: true });
  await typeCheckTests();

  let databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    log('Using DATABASE_URL for tests: its schema is migrated, and each test creates its own tenant.');
  } else {
    const pg = await startEmbeddedPostgres({
      dataDir: join(dataDir, 'test-postgres'), port: await freePort(), database: 'sop_test', fresh: true,
    });
    stops.push(pg.stop);
    databaseUrl = pg.url;
  }
  log(`Postgres: ${await postgresVersion(databaseUrl)}`);

  const temporalLog = join(dataDir, 'test-temporal.log');
  rmSync(temporalLog, { force: true });
  const temporal = await startTemporal({ port: await freePort(), logFile: temporalLog });
  stops.push(temporal.stop);
  log(`Temporal: ${temporal.version} at ${temporal.address} (log: .data/test-temporal.log)`);

  // The Temporal fault test stops and restarts a dev server of its own (with a database file): it needs the CLI
  // even when TEMPORAL_ADDRESS points at an outside server, and fails saying so when there is none.
  const temporalCli = await findOrBuildTemporalCli();

  const timeSkipping = await ensureTimeSkippingServer();
  log(`Time-skipping test server: ${timeSkipping.replace(process.env.HOME ?? '~', '~')}`);

  const chromium = await ensureChromium();
  log(chromium ? `Browser: ${(await capture(chromium, ['--version']))?.split('\n').pop()}` : 'Browser: none; the browser tests will fail and say why.');

  const schemathesis = await ensureSchemathesis();
  log(schemathesis ? `API fuzzer: ${(await capture(schemathesis, ['--version']))?.trim()}` : 'API fuzzer: none; the fuzz test will fail and say why.');

  const resultsFile = join(dataDir, 'jest-results.json');
  rmSync(resultsFile, { force: true });
  const jestArgs = ['--json', `--outputFile=${resultsFile}`, ...process.argv.slice(2)];
  let jestFailed = false;
  try {
    await run(process.execPath, [join(ROOT, 'node_modules/jest/bin/jest.js'), ...jestArgs], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_TEST_SERVER: timeSkipping,
        TEMPORAL_CLI: temporalCli ?? '',
        CHROMIUM_PATH: chromium ?? '',
        SCHEMATHESIS: schemathesis ?? '',
        NODE_ENV: 'test',
      },
    });
  } catch {
    jestFailed = true;
  }
  if (!existsSync(resultsFile)) throw new Error('Jest wrote no results: see the output above.');
  const r = JSON.parse(readFileSync(resultsFile, 'utf8'));
  log(`Test run took ${elapsed(started)}`);
  console.log(`\n${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
  return jestFailed || r.numFailedTests > 0 || r.numTotalTests === 0 || !r.success ? 1 : 0;
}

/**
 * Jest only transpiles (ts-jest, isolatedModules): a test's type errors (an undefined name, a column its row type
 * lacks) would show only when that test runs, or never. tsconfig.test.json holds the tests (test/ and the server's
 * *.spec.ts); the code they import is read as the declarations the build just wrote (project references), so this
 * checks the tests, not again the code `tsc -b` checked. The console's specs are checked with the console's own
 * settings (apps/web/tsconfig.spec.json: JSX, Vite's types, bundler resolution), as its code is. Incremental: a
 * later run rechecks only what changed since.
 */
async function typeCheckTests() {
  log('Type-checking the tests…');
  const start = Date.now();
  for (const [config, buildInfo] of [['tsconfig.test.json', 'tsconfig.test'], ['apps/web/tsconfig.spec.json', 'tsconfig.web-spec']]) {
    await run(process.execPath, [
      join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, config), '--noEmit',
      '--incremental', '--tsBuildInfoFile', join(dataDir, `${buildInfo}.tsbuildinfo`),
    ], { cwd: ROOT }).catch(() => {
      throw new Error(`The tests do not type-check: see the errors above (npx tsc -p ${config} --noEmit)`);
    });
  }
  log(`Tests type-checked in ${elapsed(start)}`);
}

async function teardown() {
  for (const stop of stops.reverse()) await stop().catch((e) => warn(`cleanup: ${e.message}`));
}

main()
  .then(async (code) => { await teardown(); process.exit(code); })
  .catch(async (err) => { warn(err?.stack ?? String(err)); await teardown(); process.exit(1); });
