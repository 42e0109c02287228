#!/usr/bin/env node
// Applies pending database migrations to DATABASE_URL (`npm run migrate`; the docker image's migrate step).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '../..');

export async function migrate(databaseUrl) {
  const { runMigrations } = createRequire(import.meta.url)(join(ROOT, 'libs/db/dist/index.js'));
  return runMigrations(databaseUrl);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error('Configuration error: DATABASE_URL is required (postgres://user:password@host:5432/database).');
    process.exit(78);
  }
  migrate(url)
    .then((ran) => console.log(ran.length ? `Applied migrations: ${ran.join(', ')}` : 'Schema is up to date.'))
    .catch((err) => {
      console.error(`Migration failed: ${err.message}`);
      process.exit(1);
    });
}
