// Small process helpers shared by the run and test commands. Plain Node: they run before npm install.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';

export const log = (msg) => console.log(`\x1b[36m[sop]\x1b[0m ${msg}`);
export const warn = (msg) => console.warn(`\x1b[33m[sop] ${msg}\x1b[0m`);

/** Runs a command to completion with inherited output; rejects with its exit code. */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'inherit', ...opts });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`)),
    );
  });
}

/** Runs a command and returns its stdout, or null when it cannot run. */
export function capture(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    let out = '';
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', () => resolve(null));
    child.on('exit', (code) => resolve(code === 0 ? out.trim() : null));
  });
}

/**
 * A port nobody listens on now, for a server started next. Taken from below the kernel's ephemeral range: the
 * ephemeral ports are what every outgoing connection on the machine is given as its own local port, and a port so
 * taken cannot be listened on, so a port chosen there (as `listen(0)` chooses) could be lost between choosing it
 * and binding it: beside a test suite that opens thousands of connections, a Temporal dev server exited with
 * "address already in use" tens of seconds after its port was chosen. Below that range only another listener can
 * take it. Where the range cannot be read or leaves no room below it, the kernel picks (`listen(0)`).
 */
export async function freePort() {
  const [low] = ephemeralRange();
  const [from, to] = [Math.max(1024, Math.min(PICKED_FROM, low - 4096)), low];
  if (to - from >= 1000) {
    for (let tries = 0; tries < 50; tries++) {
      const port = from + Math.floor(Math.random() * (to - from));
      if (await listensOn(port)) return port;
    }
  }
  return listensOn(0);
}

/** Where `freePort` starts looking: clear of the usual development ports (Postgres 5432, Temporal 7233/8233, 3000, 8080). */
const PICKED_FROM = 20_000;

/** The kernel's range of ports for outgoing connections (Linux), or the IANA default elsewhere. */
export function ephemeralRange() {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low > 0 && high >= low) return [low, high];
  } catch {
    // not Linux
  }
  return [49152, 65535];
}

/** Listens on `port` (0: one the kernel picks) of 127.0.0.1 and closes at once: the port, or false when it is taken. */
function listensOn(port) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => {
      const { port: bound } = srv.address();
      srv.close(() => resolve(bound));
    });
  });
}

export function portOpen(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const sock = connect({ port, host });
    sock.once('connect', () => (sock.destroy(), resolve(true)));
    sock.once('error', () => resolve(false));
  });
}

/**
 * Waits until something listens on `port`. With `child`, fails as soon as it exits; `output` gives what it said
 * (its log's tail), put into the error so that a server that could not start says why.
 */
export async function waitForPort(port, { timeoutMs = 60_000, what = `port ${port}`, child, output = () => '' } = {}) {
  const deadline = Date.now() + timeoutMs;
  const said = () => {
    const text = output().trim();
    return text ? `; its last output:\n${text}` : '; it said nothing';
  };
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${what} exited (${child.signalCode ?? `code ${child.exitCode}`}) before it was ready${said()}`);
    }
    if (await portOpen(port)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not open port ${port} within ${timeoutMs / 1000}s${said()}`);
}

/** Stops a child process: SIGTERM, then SIGKILL if it lingers. */
export function stopChild(child, graceMs = 10_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => (clearTimeout(timer), resolve()));
    child.kill('SIGTERM');
  });
}

export const elapsed = (start) => `${((Date.now() - start) / 1000).toFixed(1)}s`;
