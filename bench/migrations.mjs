// How long the latest migrations hold their tables on a large database (issue 14, "Ten times the data"). A migration
// runs in one transaction: a table it alters, indexes or drops an index of stays locked until it commits (writes
// wait for a CREATE INDEX; reads too once an ALTER TABLE or DROP INDEX has taken its lock), so its time is how long
// that table waits during a deploy. Measured alone and warm (each up runs right after its down read the same
// tables): a lower bound for a deploy beside live traffic.
//
// Runs on the data another bench left behind, e.g. after a 10,000,000-contact dispatch run:
//   BENCH_DATABASE=bench_dispatch npm run bench -- migrations   (BENCH_DATABASE: that database, kept)
// In one transaction that is rolled back at the end (the database is left as it was): the latest BENCH_MIGRATIONS
// migrations (default 5) are undone newest first, then applied oldest first, each timed. A migration that runs outside
// a transaction (`transaction = false`, e.g. CREATE INDEX CONCURRENTLY) cannot be replayed so: it is left out.
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '../..');
const require = createRequire(import.meta.url);
const { DataSource } = require('typeorm');
const { dataSourceOptions, MIGRATIONS } = require(join(ROOT, 'libs/db/dist'));
const { dbSizeMb, timed } = await import(join(ROOT, 'bench/lib.mjs'));

const COUNT = Number(process.env.BENCH_MIGRATIONS ?? 5);
const LARGE_TABLES = ['contacts', 'segment_memberships', 'enrollments', 'tasks', 'domain_events', 'sop_exit_checks'];
const round = (x) => Math.round(x * 10) / 10;

/** Row counts of the large tables (exact: the figures are set beside them). */
async function rowCounts(runner) {
  const counts = {};
  for (const table of LARGE_TABLES) counts[table] = (await runner.query(`SELECT count(*)::bigint AS n FROM ${table}`))[0].n;
  return counts;
}

export async function run({ databaseUrl, log }) {
  const db = await new DataSource(dataSourceOptions(databaseUrl)).initialize();
  const runner = db.createQueryRunner();
  try {
    const rows = await rowCounts(runner);
    log(`Rows: ${Object.entries(rows).map(([t, n]) => `${t} ${Number(n).toLocaleString('en')}`).join(', ')}`);
    if (Number(rows.segment_memberships) < 1000) {
      return { figures: { bench: 'migrations', rows }, missed: ['no data to migrate: run it on a kept bench database (BENCH_DATABASE=bench_dispatch after a dispatch run)'] };
    }
    const latest = MIGRATIONS.slice(-COUNT).map((M) => new M());
    const migrations = latest.filter((m) => m.transaction !== false);
    const timings = {};
    for (const m of latest.filter((x) => x.transaction === false)) timings[m.name] = 'left out: runs outside a transaction';
    await runner.startTransaction();
    try {
      for (const m of [...migrations].reverse()) {
        const [ms] = await timed(() => m.down(runner));
        timings[m.name] = { down_s: round(ms / 1000) };
        log(`down ${m.name}: ${round(ms / 1000)} s`);
      }
      for (const m of migrations) {
        const [ms] = await timed(() => m.up(runner));
        timings[m.name].up_s = round(ms / 1000);
        log(`up ${m.name}: ${round(ms / 1000)} s`);
      }
      timings.sop_exit_checks_after_up = (await runner.query(`SELECT count(*)::bigint AS n FROM sop_exit_checks`))[0].n;
    } finally {
      // the database is left as it was; a failed rollback must not hide the migration's own error
      await runner.rollbackTransaction().catch((err) => log(`rollback failed: ${err.message}`));
    }
    const figures = { bench: 'migrations', rows, migrations: timings, load_avg_1m: round(loadavg()[0]), db_size_mb: await dbSizeMb(db) };
    return { figures, missed: [] };
  } finally {
    await runner.release();
    await db.destroy();
  }
}
