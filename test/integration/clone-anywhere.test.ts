import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/env';
import { freePort } from '../support/processes';

/**
 * The run command from a clone in a folder no one else may enter (a `mktemp -d` folder; as root, Postgres
 * runs as the postgres user, which cannot reach such a folder): the system starts and answers.
 */
const TEST_MS = 600_000;

describe('the run command in a private folder', () => {
  let dir: string;
  afterAll(() => {
    if (!dir) return;
    rmSync(dir, { recursive: true, force: true });
    // As root the clone's Postgres data lives in /var/lib/sop-engine/<hash of the clone's path>.
    rmSync(join('/var/lib/sop-engine', createHash('sha256').update(join(dir, 'clone')).digest('hex').slice(0, 12)), { recursive: true, force: true });
  });

  it('starts Postgres, Temporal, the API and the worker from a 0700 folder, then stops them', async () => {
    const began = Date.now();
    dir = mkdtempSync(join(tmpdir(), 'sop-clone-'));
    chmodSync(dir, 0o700);
    expect(statSync(dir).mode & 0o077).toBe(0);
    const clone = join(dir, 'clone');
    expect(spawnSync('git', ['clone', '-q', ROOT, clone]).status).toBe(0);
    // The dependencies as `npm ci` would lay them out, hard-linked from this checkout (the workspace links are
    // relative, so they point into the clone), and marked current so the run command does not reinstall them.
    const workspaces: string[] = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).workspaces;
    for (const folder of ['.', ...workspaces].filter((w) => existsSync(join(ROOT, w, 'node_modules')))) {
      const [from, to] = [join(ROOT, folder, 'node_modules'), join(clone, folder, 'node_modules')];
      // Hard links where the temporary folder shares this checkout's file system, a copy where it does not.
      if (spawnSync('cp', ['-al', from, to]).status !== 0) {
        rmSync(to, { recursive: true, force: true });
        expect(spawnSync('cp', ['-a', from, to]).status).toBe(0);
      }
    }
    const now = new Date();
    utimesSync(join(clone, 'node_modules/.package-lock.json'), now, now);

    const [port, pgPort, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const run = spawn(process.execPath, [join(clone, 'tools/run.mjs')], {
      cwd: clone,
      env: { ...process.env, PORT: String(port), PG_PORT: String(pgPort), TEMPORAL_PORT: String(temporalPort), TEMPORAL_UI_PORT: String(uiPort),
        DATABASE_URL: '', TEMPORAL_ADDRESS: '', NODE_ENV: 'development' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    run.stdout.on('data', (c) => (output += c));
    run.stderr.on('data', (c) => (output += c));
    const exited = new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)));
    try {
      // A fresh clone builds the server and the console first: 240 s of it at a load of 10 on two cores (a full
      // run beside a bench), where the start itself takes seconds. The deadline leaves the test's last 60 s to stop
      // what did start (the finally below), which a Jest timeout would skip.
      const deadline = began + TEST_MS - 60_000;
      while (!output.includes('SOP engine is running')) {
        if (Date.now() > deadline || run.exitCode !== null) throw new Error(`the run command did not start:\n${output.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(ready.status).toBe(200);
      const page = await fetch(`http://127.0.0.1:${port}/`, { headers: { accept: 'text/html' } });
      expect(await page.text()).toContain('<div id="root">');
      const login = await fetch(`http://127.0.0.1:${port}/api/auth/login`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ops@demo.example', password: 'demo-password' }),
      });
      expect(login.status).toBe(200);
    } finally {
      run.kill('SIGINT');
      await exited;
    }
    expect(output).toContain('Stopped. Nothing is left running.');
  }, TEST_MS);
});
