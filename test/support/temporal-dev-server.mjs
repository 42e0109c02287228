#!/usr/bin/env node
// A Temporal dev server started with the run and test commands' own code (tools/lib/infra.mjs), for the tests of
// that code: `node temporal-dev-server.mjs '<options as JSON>'` (cli, port, uiPort, dbFile, logFile). It prints one
// JSON line, {"event":"ready","address":…,"uiUrl":…} or {"event":"failed","message":…}, stops the server and exits;
// what the provisioning code logged (its warnings) goes to stderr as usual.
import process from 'node:process';
import { startTemporalDevServer } from '../../tools/lib/infra.mjs';

const say = (event, extra = {}) => process.stdout.write(`${JSON.stringify({ event, ...extra })}\n`);
try {
  const server = await startTemporalDevServer(JSON.parse(process.argv[2]));
  say('ready', { address: server.address, uiUrl: server.uiUrl });
  await server.stop();
} catch (err) {
  say('failed', { message: String(err?.message ?? err) });
}
