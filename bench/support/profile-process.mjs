// Profiling preload for the API and worker processes a bench starts (docs/measurements.md, "The callback's time,
// profiled"): `BENCH_API_NODE_ARGS="--import ./bench/support/profile-process.mjs"` (the API only) or
// `NODE_OPTIONS="--import $PWD/bench/support/profile-process.mjs"` (the API and the worker). Both are stopped with SIGTERM;
// before their own handlers run, this writes to BENCH_PROFILE_DIR (default: the OS's temporary directory)
// eld-<role>-<pid>.json (event-loop delay percentiles, GC pauses: count, total, longest, over 10 ms) and, with
// BENCH_CPU_PROFILE=1, <api|worker>-<pid>.cpuprofile (V8 CPU profile, 200 µs sampling; open in Chrome DevTools).
import inspector from 'node:inspector';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const role = /apps\/(api|worker)\//.exec(process.argv[1] ?? '')?.[1];
if (role) {
  const dir = process.env.BENCH_PROFILE_DIR ?? tmpdir();
  const session = new inspector.Session();
  session.connect();
  const cpu = process.env.BENCH_CPU_PROFILE === '1';
  if (cpu) {
    session.post('Profiler.enable');
    session.post('Profiler.setSamplingInterval', { interval: 200 });
    session.post('Profiler.start');
  }
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const gcs = [];
  new PerformanceObserver((list) => { for (const e of list.getEntries()) gcs.push(e.duration); }).observe({ entryTypes: ['gc'] });
  process.prependListener('SIGTERM', () => {
    const ms = (ns) => Math.round(ns / 1e4) / 100;
    fs.writeFileSync(join(dir, `eld-${role}-${process.pid}.json`), JSON.stringify({
      role, eld_p50_ms: ms(delay.percentile(50)), eld_p95_ms: ms(delay.percentile(95)), eld_p99_ms: ms(delay.percentile(99)), eld_max_ms: ms(delay.max),
      gc_count: gcs.length, gc_total_ms: Math.round(gcs.reduce((s, d) => s + d, 0)), gc_max_ms: Math.round(Math.max(0, ...gcs)),
      gc_over_10ms: gcs.filter((d) => d > 10).length,
    }));
    if (cpu) session.post('Profiler.stop', (err, result) => {
      if (!err) fs.writeFileSync(join(dir, `${role}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
