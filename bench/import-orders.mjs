// The CSV import of order times for contacts that exist (the path that compares each row's
// `last_order_at` with the contact's and announces the changed ones as `contact.updated` for the exit pass):
// BENCH_IMPORT_ROWS existing contacts, each imported with a new order time, twice (all changed), then the
// same file again (nothing changed). Compare runs of this bench before and after a change of the import.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '../..');
const require = createRequire(import.meta.url);
const pg = require('pg');
const { startApiWithTenant, timed } = await import(join(ROOT, 'bench/lib.mjs'));

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 200_000);
const round = (x) => Math.round(x * 10) / 10;

async function writeCsv(file, orderedAt) {
  const out = createWriteStream(file);
  out.write('external_id,order_count,last_order_at\n');
  for (let i = 1; i <= ROWS; i++) {
    if (!out.write(`ord-${i},${1 + (i % 5)},${orderedAt}\n`)) await new Promise((r) => out.once('drain', r));
  }
  out.end();
  await finished(out);
}

export async function run({ databaseUrl, log }) {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const { api, base, token } = await startApiWithTenant(databaseUrl);
  const file = join(tmpdir(), `sop-bench-orders-${randomBytes(4).toString('hex')}.csv`);
  try {
    const { rows: [{ id: tenantId }] } = await db.query(`SELECT id FROM tenants ORDER BY created_at DESC LIMIT 1`);
    await db.query(
      `INSERT INTO contacts (tenant_id, external_id, name, order_count, last_order_at)
       SELECT $1, 'ord-' || g, 'Contact ' || g, 1, now() - interval '90 days' FROM generate_series(1, $2::int) g`, [tenantId, ROWS]);
    await db.query('ANALYZE');
    const importFile = async (orderedAt) => {
      await writeCsv(file, orderedAt);
      await db.query('CHECKPOINT');
      const [ms, body] = await timed(async () => (await fetch(`${base}/api/imports/contacts`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
        body: Readable.toWeb(createReadStream(file)), duplex: 'half',
      })).json());
      if (body.importedRows !== ROWS) throw new Error(`imported ${body.importedRows} of ${ROWS}: ${JSON.stringify(body).slice(0, 300)}`);
      return ms;
    };
    const changed = [await importFile('2026-11-01T08:00:00Z'), await importFile('2026-11-02T08:00:00Z')];
    const unchanged = await importFile('2026-11-02T08:00:00Z');
    const { rows: [{ n }] } = await db.query(`SELECT count(*)::int AS n FROM domain_events WHERE tenant_id = $1 AND type = 'contact.updated'`, [tenantId]);
    log(`import of ${ROWS} existing contacts' order times: ${changed.map((ms) => round(ms / 1000)).join(' s, ')} s (all changed), ` +
      `${round(unchanged / 1000)} s (unchanged); contact.updated events: ${n}`);
    return { missed: [], figures: { import_rows: ROWS, changed_s: changed.map((ms) => round(ms / 1000)), unchanged_s: round(unchanged / 1000), contact_updated_events: n } };
  } finally {
    rmSync(file, { force: true });
    api.kill('SIGTERM');
    await db.end();
  }
}
