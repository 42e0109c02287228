/**
 * Dashboard measures, computed from rollup counters the same way everywhere (docs/dashboards.md defines each).
 * Pure: no I/O.
 */

/** Upper bounds (minutes) of the "window start to done" histogram the rollups keep (dm00 … dm15). */
export const DONE_MINUTE_BOUNDS = [5, 15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 7200, 10080, 20160, 43200] as const;
export const DONE_MINUTE_BUCKETS = DONE_MINUTE_BOUNDS.length + 1;
export const BUCKET_COLUMNS = Array.from({ length: DONE_MINUTE_BUCKETS }, (_, i) => `dm${String(i).padStart(2, '0')}`);

/** The counters of a rollup row (or a sum of rows). */
export interface Counters {
  created: number;
  pending: number;
  done: number;
  doneOnTime: number;
  skipped: number;
  expired: number;
  cancelled: number;
  responded: number;
  converted: number;
  responses: number;
  purchases: number;
  revenue: number;
  doneMinutes: number;
  /** histogram of minutes from window start to done, DONE_MINUTE_BOUNDS buckets */
  histogram: number[];
}

export interface Measures {
  created: number;
  done: number;
  skipped: number;
  expired: number;
  cancelled: number;
  pending: number;
  /** pending tasks whose window has closed (not yet expired), now; null where it cannot be known (past periods) */
  overdueNow: number | null;
  /** tasks whose window has closed and that were not cancelled: done + skipped + expired + overdue */
  closed: number;
  completionRate: number | null;
  onTimeRate: number | null;
  medianMinutesToDone: number | null;
  responded: number;
  responseRate: number | null;
  converted: number;
  conversionRate: number | null;
  purchases: number;
  revenue: number;
}

export const zeroCounters = (): Counters => ({
  created: 0, pending: 0, done: 0, doneOnTime: 0, skipped: 0, expired: 0, cancelled: 0, responded: 0, converted: 0, responses: 0,
  purchases: 0, revenue: 0, doneMinutes: 0, histogram: new Array(DONE_MINUTE_BUCKETS).fill(0),
});

export function addCounters(a: Counters, b: Counters): Counters {
  const out = { ...a, histogram: a.histogram.map((v, i) => v + (b.histogram[i] ?? 0)) };
  for (const k of ['created', 'pending', 'done', 'doneOnTime', 'skipped', 'expired', 'cancelled', 'responded', 'converted', 'responses',
    'purchases', 'revenue', 'doneMinutes'] as const) out[k] = a[k] + b[k];
  out.revenue = Math.round(out.revenue * 100) / 100;
  return out;
}

const ratio = (a: number, b: number): number | null => (b > 0 ? Math.round((a / b) * 10000) / 10000 : null);

/**
 * The median from the histogram: the bucket that holds the middle done task, linearly interpolated inside it
 * (exact to its bucket; the last, open bucket answers its lower bound).
 */
export function medianFromHistogram(histogram: number[]): number | null {
  const total = histogram.reduce((s, v) => s + v, 0);
  if (total === 0) return null;
  const half = total / 2;
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    if (seen + histogram[i] >= half && histogram[i] > 0) {
      const lo = i === 0 ? 0 : DONE_MINUTE_BOUNDS[i - 1];
      if (i >= DONE_MINUTE_BOUNDS.length) return lo;
      const hi = DONE_MINUTE_BOUNDS[i];
      return Math.round(lo + ((half - seen) / histogram[i]) * (hi - lo));
    }
    seen += histogram[i];
  }
  return null;
}

/** Measures from counters plus the live overdue count (pending, window closed, in the same scope and period). */
export function measures(c: Counters, overdue: number, overdueNow: number | null): Measures {
  const closed = c.done + c.skipped + c.expired + overdue;
  return {
    created: c.created, done: c.done, skipped: c.skipped, expired: c.expired, cancelled: c.cancelled, pending: c.pending, overdueNow, closed,
    completionRate: ratio(c.done, closed), onTimeRate: ratio(c.doneOnTime, c.done), medianMinutesToDone: medianFromHistogram(c.histogram),
    responded: c.responded, responseRate: ratio(c.responded, c.done), converted: c.converted, conversionRate: ratio(c.converted, c.done),
    purchases: c.purchases, revenue: c.revenue,
  };
}

/** Change against the previous period: the difference of two rates (percentage points as a fraction), null when either is unknown. */
export const change = (now: number | null, before: number | null): number | null =>
  now === null || before === null ? null : Math.round((now - before) * 10000) / 10000;
