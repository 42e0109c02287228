import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** One registry per app instance, so tests that boot several apps do not collide. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sop_api_' });
  const httpDuration = new Histogram({
    name: 'sop_api_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return { registry, httpDuration };
}
export type Metrics = ReturnType<typeof createMetrics>;
export const METRICS = Symbol('METRICS');
