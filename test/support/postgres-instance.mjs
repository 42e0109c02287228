#!/usr/bin/env node
// A Postgres of one test's own, started with the test command's provisioning code (tools/lib/infra.mjs):
// `node postgres-instance.mjs <dataDir> <port> <database>`. It prints one JSON line per event ({"event":"ready",
// "url":…}, then "stopped" / "started" answering the lines "stop" and "start" on stdin), and stops Postgres and
// exits when stdin closes, so a test process that dies takes its Postgres with it.
import process from 'node:process';
import { createInterface } from 'node:readline';
import { startEmbeddedPostgres } from '../../tools/lib/infra.mjs';

const [dataDir, port, database] = process.argv.slice(2);
const say = (event, extra = {}) => process.stdout.write(`${JSON.stringify({ event, ...extra })}\n`);

const pg = await startEmbeddedPostgres({ dataDir, port: Number(port), database, fresh: true });
say('ready', { url: pg.url });

let queue = Promise.resolve();
const commands = { stop: async () => { await pg.stop(); say('stopped'); }, start: async () => { await pg.start(); say('started'); } };
createInterface({ input: process.stdin })
  .on('line', (line) => {
    const command = commands[line.trim()];
    if (command) queue = queue.then(command).catch((err) => say('error', { message: String(err?.message ?? err) }));
  })
  .on('close', () => {
    queue.then(() => pg.stop()).finally(() => process.exit(0));
  });
