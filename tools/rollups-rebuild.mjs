#!/usr/bin/env node
// `npm run rollups:rebuild [-- --tenant <id> ...]`: rebuilds the dashboard rollups from the raw rows
// (docs/dashboards.md), one tenant per transaction, printing progress; then checks them against a recount.
// Needs DATABASE_URL and a build (`npm run build`).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '../..');
const require = createRequire(import.meta.url);

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('Configuration error: DATABASE_URL is required (postgres://user:password@host:5432/database).');
  process.exit(78);
}
const tenantIds = [];
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--tenant' && process.argv[i + 1]) tenantIds.push(process.argv[++i]);
  else {
    console.error(`Unknown argument ${process.argv[i]}; usage: npm run rollups:rebuild [-- --tenant <id> ...]`);
    process.exit(64);
  }
}

const { dataSourceOptions } = require(join(ROOT, 'libs/db/dist/index.js'));
const { compareRollups, rebuildRollups } = require(join(ROOT, 'libs/engine/dist/index.js'));
const { DataSource } = require('typeorm');

const db = await new DataSource(dataSourceOptions(url)).initialize();
const started = Date.now();
try {
  const result = await rebuildRollups(db, {
    tenantIds: tenantIds.length ? tenantIds : undefined,
    onProgress: (p) => console.log(`[${p.tenant}/${p.tenants}] tenant ${p.tenantId}: ${p.rows} rollup rows in ${p.ms} ms`),
  });
  let differences = 0;
  const checked = tenantIds.length ? tenantIds : (await db.query(`SELECT id FROM tenants`)).map((t) => t.id);
  for (const id of checked) differences += (await compareRollups(db, id)).length;
  console.log(`Rebuilt ${result.rows} rollup rows for ${result.tenants} tenant(s) in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
    (differences ? `${differences} rows differ from the recount (tasks changed meanwhile?)` : 'they equal the recount.'));
  process.exitCode = differences ? 1 : 0;
} catch (err) {
  console.error(`Rebuild failed: ${err.message}`);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
