import { estimateFromSample } from './segments.service';

describe('estimateFromSample (a preview count from a page sample)', () => {
  it('scales the hits by the sampled fraction and rounds to the margin’s two significant figures', () => {
    // 1 % of the pages, 1,480 hits, one or two per page: about 148,000 ± 2.576 standard errors
    const { count, margin } = estimateFromSample({ fraction: 0.01, hits: 1480, hitsSquared: 1800 });
    const se = Math.sqrt(1800 * 0.99) / 0.01;
    expect(margin).toBeGreaterThanOrEqual(2.576 * se);
    expect(margin).toBeLessThan(2.576 * se * 1.1);
    expect(count).toBe(148_000);
    expect(margin).toBe(11_000);
  });

  it('widens the margin when members share pages (the same hits, fewer pages)', () => {
    const spread = estimateFromSample({ fraction: 0.1, hits: 500, hitsSquared: 500 }); // one per page
    const clustered = estimateFromSample({ fraction: 0.1, hits: 500, hitsSquared: 500 * 25 }); // 25 per page
    expect(spread.count).toBe(5000);
    expect(clustered.margin).toBeGreaterThan(4 * spread.margin);
  });

  it('still gives a margin when the sample found no member (at least three hits’ worth)', () => {
    expect(estimateFromSample({ fraction: 0.01, hits: 0, hitsSquared: 0 })).toEqual({ count: 0, margin: Math.ceil((2.576 * Math.sqrt(3 * 0.99)) / 0.01 / 10) * 10 });
  });
});
