/**
 * Comparing variants of a step (docs/dashboards.md "Variant comparison"): a Wilson score interval for each
 * rate, and the probability that each variant is best under independent Beta(1 + successes, 1 + failures)
 * posteriors (uniform priors), estimated by a seeded Monte Carlo so that an answer repeats exactly.
 */

/** The 95% Wilson score interval of successes out of trials; [0, 1] with no trials. */
export function wilson(successes: number, trials: number, z = 1.959964): [number, number] {
  if (trials <= 0) return [0, 1];
  const p = successes / trials;
  const z2 = z * z;
  const centre = (p + z2 / (2 * trials)) / (1 + z2 / trials);
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / (1 + z2 / trials);
  const round = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000;
  return [round(centre - half), round(centre + half)];
}

/** mulberry32: a small seeded generator, enough for Monte Carlo here. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(rand: () => number): number {
  let u = 0;
  while (u === 0) u = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Gamma(shape, 1) by Marsaglia and Tsang (shape >= 1 here: Beta parameters are at least 1). */
function gamma(shape: number, rand: () => number): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rand);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rand();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

function beta(a: number, b: number, rand: () => number): number {
  const x = gamma(a, rand);
  return x / (x + gamma(b, rand));
}

/** For each arm (successes, trials): the probability that its true rate is the highest. Sums to 1. */
export function probabilityBest(arms: { successes: number; trials: number }[], draws = 20000, seed = 13): number[] {
  if (arms.length === 0) return [];
  if (arms.length === 1) return [1];
  const rand = generator(seed);
  const wins = new Array(arms.length).fill(0);
  for (let d = 0; d < draws; d++) {
    let best = -1;
    let bestValue = -1;
    arms.forEach((arm, i) => {
      const value = beta(1 + arm.successes, 1 + Math.max(0, arm.trials - arm.successes), rand);
      if (value > bestValue) [best, bestValue] = [i, value];
    });
    wins[best]++;
  }
  return wins.map((w) => Math.round((w / draws) * 10000) / 10000);
}
