import { medianFromHistogram, probabilityBest, wilson, DONE_MINUTE_BUCKETS, measures, zeroCounters } from '.';

describe('dashboard measures', () => {
  it('takes the median from the histogram, interpolated inside its bucket', () => {
    const h = new Array(DONE_MINUTE_BUCKETS).fill(0);
    expect(medianFromHistogram(h)).toBeNull();
    h[1] = 2; // 5-15 min
    expect(medianFromHistogram(h)).toBe(10);
    h[3] = 2; // 30-60 min: the middle (2 of 4) is the end of bucket 1
    expect(medianFromHistogram(h)).toBe(15);
    h[15] = 10; // over 30 days: the open bucket answers its lower bound
    expect(medianFromHistogram(h)).toBe(43200);
  });

  it('leaves cancelled tasks out of completion and counts overdue ones in', () => {
    const m = measures({ ...zeroCounters(), created: 10, done: 4, doneOnTime: 3, skipped: 1, expired: 1, cancelled: 2, responded: 2 }, 2, 2);
    expect(m.closed).toBe(8);
    expect(m.completionRate).toBe(0.5);
    expect(m.onTimeRate).toBe(0.75);
    expect(m.responseRate).toBe(0.5);
  });

  it('gives Wilson intervals and a probability of being best that repeats', () => {
    expect(wilson(0, 0)).toEqual([0, 1]);
    const [lo, hi] = wilson(50, 100);
    expect(lo).toBeCloseTo(0.4038, 3);
    expect(hi).toBeCloseTo(0.5962, 3);
    const p = probabilityBest([{ successes: 30, trials: 100 }, { successes: 50, trials: 100 }]);
    expect(p[1]).toBeGreaterThan(0.99);
    expect(p[0] + p[1]).toBeCloseTo(1, 5);
    expect(probabilityBest([{ successes: 30, trials: 100 }, { successes: 50, trials: 100 }])).toEqual(p);
    const even = probabilityBest([{ successes: 10, trials: 20 }, { successes: 10, trials: 20 }]);
    expect(Math.abs(even[0] - 0.5)).toBeLessThan(0.02);
  });
});
