import { RefreshingCache } from './refreshing-cache';

/** A loader whose loads the test settles by hand, and a clock the test moves. */
function setup(ttlMs = 5000, refreshAheadMs = 1000) {
  let now = 0;
  const loads: { key: string; resolve: (v: string) => void; reject: (e: Error) => void }[] = [];
  const cache = new RefreshingCache<string>(
    (key) => new Promise<string>((resolve, reject) => loads.push({ key, resolve, reject })), ttlMs, refreshAheadMs, 1000, () => now);
  return { cache, loads, at: (ms: number) => void (now = ms) };
}
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('RefreshingCache (the callback path\'s connections)', () => {
  it('loads a key once for callers that come together, at first and again once it expired', async () => {
    const { cache, loads, at } = setup();
    const first = Promise.all([cache.get('a'), cache.get('a'), cache.get('a')]);
    expect(loads).toHaveLength(1);
    loads[0].resolve('v1');
    expect(await first).toEqual(['v1', 'v1', 'v1']);
    at(5000); // expired (good for 5 s from when its load started)
    const again = Promise.all([cache.get('a'), cache.get('a')]);
    expect(loads).toHaveLength(2);
    loads[1].resolve('v2');
    expect(await again).toEqual(['v2', 'v2']);
  });

  it('serves a value in its last second while one background load refreshes it', async () => {
    const { cache, loads, at } = setup();
    const first = cache.get('a');
    loads[0].resolve('v1');
    await first;
    at(3999);
    expect(await cache.get('a')).toBe('v1');
    expect(loads).toHaveLength(1); // not yet in its last second
    at(4000);
    expect(await cache.get('a')).toBe('v1');
    expect(await cache.get('a')).toBe('v1');
    expect(loads).toHaveLength(2); // one refresh, callers not waiting for it
    loads[1].resolve('v2');
    await settled();
    at(8999); // the refresh started at 4000: good until 9000
    expect(await cache.get('a')).toBe('v2');
  });

  it('keeps serving a value whose background refresh failed until it expires; then the caller\'s own load fails', async () => {
    const { cache, loads, at } = setup();
    const first = cache.get('a');
    loads[0].resolve('v1');
    await first;
    at(4500);
    expect(await cache.get('a')).toBe('v1');
    loads[1].reject(new Error('gone'));
    await settled();
    at(4900);
    expect(await cache.get('a')).toBe('v1');
    at(5000);
    const after = cache.get('a');
    loads[loads.length - 1].reject(new Error('gone'));
    await expect(after).rejects.toThrow('gone');
    const next = cache.get('a'); // a failure is not kept
    loads[loads.length - 1].resolve('v3');
    expect(await next).toBe('v3');
  });

  it('forgets matching values at once, and a load in flight when it forgets is not kept', async () => {
    const { cache, loads } = setup();
    const a = cache.get('a');
    const b = cache.get('b');
    loads[0].resolve('tenant-1');
    loads[1].resolve('tenant-2');
    await Promise.all([a, b]);
    cache.forget((v) => v === 'tenant-1');
    const reloaded = cache.get('a');
    expect(loads).toHaveLength(3);
    expect(await cache.get('b')).toBe('tenant-2'); // kept
    cache.forget(() => false); // a load in flight may be of any tenant: not kept
    loads[2].resolve('tenant-1 before the change');
    expect(await reloaded).toBe('tenant-1 before the change'); // its own caller has it
    const fresh = cache.get('a');
    expect(loads).toHaveLength(4);
    loads[3].resolve('tenant-1 after the change');
    expect(await fresh).toBe('tenant-1 after the change');
  });
});
