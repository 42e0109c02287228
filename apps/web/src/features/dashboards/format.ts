/** 0.853 → "85.3%"; null (nothing to divide by) → "—". */
export const percent = (rate: number | null | undefined) => (rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(1)}%`);

/** A change of a rate in percentage points: +2.1 pp, −0.4 pp; null → null. */
export const points = (change: number | null | undefined) =>
  change === null || change === undefined ? null : `${change >= 0 ? '+' : '−'}${Math.abs(change * 100).toFixed(1)} pp`;
