import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/env';
import { freePort, temporalCli } from '../support/processes';

/**
 * How the run and test commands start the Temporal dev server (tools/lib/infra.mjs), with its ports taken under it
 * as a busy machine takes them: a clone's run in clone-anywhere failed with "Temporal dev server exited (code 1)
 * before it was ready" and nothing more, in a full test run at load 5-8.
 */
describe('the Temporal dev server start (tools/lib)', () => {
  let dir: string;
  const closers: (() => void)[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sop-temporal-start-'));
  });
  afterAll(() => {
    closers.forEach((close) => close());
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the start in a process of its own (the provisioning code is plain ESM): its one result line and its warnings. */
  function start(options: { port: number; uiPort?: number; dbFile?: string; logFile?: string }) {
    return new Promise<{ event: string; address?: string; uiUrl?: string; message?: string; warnings: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [join(ROOT, 'test/support/temporal-dev-server.mjs'), JSON.stringify({ cli: temporalCli(), ...options })],
        { stdio: ['ignore', 'pipe', 'pipe'] });
      let [out, err] = ['', ''];
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (err += c));
      child.on('error', reject);
      child.on('exit', () => {
        const line = out.split('\n').find((l) => l.startsWith('{"event"'));
        if (!line) reject(new Error(`no result from the start:\n${out}\n${err}`));
        else resolve({ ...JSON.parse(line), warnings: err });
      });
    });
  }

  /** A port no one listens on but that cannot be listened on: the local port of an outgoing connection. */
  async function portOfAConnection(): Promise<number> {
    const server: Server = await new Promise((resolve) => {
      const s = createServer((socket) => socket.on('error', () => undefined)).listen(0, '127.0.0.1', () => resolve(s));
    });
    const socket: Socket = await new Promise((resolve) => {
      const s = connect({ port: (server.address() as { port: number }).port, host: '127.0.0.1' }, () => resolve(s));
    });
    closers.push(() => socket.destroy(), () => server.close());
    return socket.localPort!;
  }

  it('starts again on a fresh port when its port was taken between choosing and binding it', async () => {
    const taken = await portOfAConnection();
    const result = await start({ port: taken, dbFile: join(dir, 'taken.db'), logFile: join(dir, 'taken.log') });
    // Before: "Temporal dev server exited (code 1) before it was ready", no address.
    expect(result).toMatchObject({ event: 'ready' });
    expect(result.address).not.toBe(`127.0.0.1:${taken}`);
    expect(result.warnings).toContain(`can't set frontend port ${taken}`);
    expect(result.warnings).toContain('address already in use');
  });

  it('moves its UI off a port another server listens on', async () => {
    const ui: Server = await new Promise((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => resolve(s));
    });
    closers.push(() => ui.close());
    const uiPort = (ui.address() as { port: number }).port;
    const result = await start({ port: await freePort(), uiPort });
    expect(result).toMatchObject({ event: 'ready' });
    expect(result.uiUrl).not.toBe(`http://127.0.0.1:${uiPort}`);
  });

  it.each([
    ['into its log file', { logFile: 'failed.log' }],
    ['kept in memory', {}],
  ])('fails saying why the server could not start, with its output %s', async (_, { logFile }: { logFile?: string }) => {
    const result = await start({ port: await freePort(), dbFile: join(dir, 'no-such-folder', 'temporal.db'), logFile: logFile && join(dir, logFile) });
    expect(result.event).toBe('failed');
    // Before: "Temporal dev server exited (code 1) before it was ready", and the reason only in the log file (which a
    // clone's run deletes with the clone).
    expect(result.message).toContain('Temporal dev server exited (code 1) before it was ready');
    expect(result.message).toContain('failed checking dir for database file');
    expect(result.message).toContain('no such file or directory');
  });
});
