// What the benchmarks share: timing, the percentile, and the API started as a process of its own.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(fileURLToPath(import.meta.url), '../..');

/** [milliseconds, value] of an async call. */
export async function timed(fn) {
  const t = process.hrtime.bigint();
  const value = await fn();
  return [Number(process.hrtime.bigint() - t) / 1e6, value];
}

/** The nearest-rank 95th percentile. */
export const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil(xs.length * 0.95) - 1)];

/** CPU seconds (user + system) used so far by process `pid` (Linux /proc; clock ticks of 1/100 s), 0 when gone. */
function cpuOfPid(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime (fields 14 and 15 of stat)
  } catch {
    return 0;
  }
}

/**
 * CPU seconds used by the processes `pids()` between `cpuMeter(pids)` and its `stop()`, to set beside wall-clock
 * times: on a shared machine, the difference is time spent waiting for a core. `pids` is asked at both ends: a
 * process started meanwhile (a new pool connection's backend) counts whole; one that ended meanwhile is not counted.
 */
export function cpuMeter(pids) {
  const start = new Map(pids().map((pid) => [String(pid), cpuOfPid(pid)]));
  return {
    stop: () => Math.round(pids().reduce((sum, pid) => sum + Math.max(0, cpuOfPid(pid) - (start.get(String(pid)) ?? 0)), 0) * 100) / 100,
  };
}

/** Postgres's processes: the postmaster's children (backends, checkpointer, WAL writer, autovacuum…). */
export function postgresPids(postmaster) {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1] === String(postmaster);
    } catch {
      return false;
    }
  });
}

/** The postmaster of Postgres backend `pid` (for postgresPids: read once, the backend may end before the postmaster). */
export function postmasterOf(pid) {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1];
}

/** The size of the bench's database in MB (pg_database_size: tables, indexes, TOAST), one decimal. */
export async function dbSizeMb(db) {
  const [{ bytes }] = await db.query(`SELECT pg_database_size(current_database())::bigint AS bytes`);
  return Math.round(Number(bytes) / 1024 / 1024 * 10) / 10;
}

/** The built API as a child process; BENCH_API_LOG_LEVEL, BENCH_API_STDOUT and BENCH_API_NODE_ARGS (e.g. --cpu-prof) tune it. */
export function startApi(env) {
  const nodeArgs = process.env.BENCH_API_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  return spawn(process.execPath, [...nodeArgs, join(ROOT, 'apps/api/dist/main.js')], {
    env: { ...process.env, ...env, LOG_LEVEL: process.env.BENCH_API_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', process.env.BENCH_API_STDOUT ? 'inherit' : 'ignore', 'inherit'],
  });
}

/** Resolves once `url` answers 2xx (about a minute at most). */
export async function waitFor(url) {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} never answered`);
}

/**
 * The API in its own process on a free port (without Temporal: these benches need none), once it answers, and
 * the admin token of a fresh organization signed up on it; `env`: settings beside the bench's. Kill `api` when done.
 */
export async function startApiWithTenant(databaseUrl, env = {}) {
  const { freePort } = await import(join(ROOT, 'tools/lib/proc.mjs'));
  const port = await freePort();
  const api = startApi({ DATABASE_URL: databaseUrl, PORT: String(port), JWT_SECRET: randomBytes(32).toString('hex'), TEMPORAL_ADDRESS: '127.0.0.1:1', ...env });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`${base}/health`);
    const signup = await (await fetch(`${base}/api/auth/signup`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ organization: 'Bench', name: 'Bench', email: `bench-${randomBytes(4).toString('hex')}@bench.example`, password: 'bench-password' }),
    })).json();
    return { api, base, token: signup.accessToken };
  } catch (err) {
    api.kill('SIGTERM');
    throw err;
  }
}
