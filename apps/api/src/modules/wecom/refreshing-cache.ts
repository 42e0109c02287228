/**
 * Values loaded by key, each good for `ttlMs` from when its load started (so a value is never older than that),
 * for the callback path: under a burst every callback needs the same connection, and a plain expiring entry made
 * every callback that arrived while the entry was being read again read it too (up to the pool's size of
 * lookups at once, the callbacks' own inserts queued behind them, every `ttlMs`).
 * - one load per key at a time: callers that find no fresh value wait for the load in flight;
 * - an entry used in its last `refreshAheadMs` is read again in the background while it is still served, so a
 *   steady stream of callers never waits for a load; a background load that fails changes nothing (the entry
 *   expires as it would have, and the next caller's own load answers with the failure);
 * - `forget` drops entries at once, and a load that was in flight when it was called is not kept.
 */
export class RefreshingCache<V> {
  private readonly entries = new Map<string, { value?: V; until: number; loading?: Promise<V> }>();

  constructor(
    private readonly load: (key: string) => Promise<V>,
    private readonly ttlMs: number,
    private readonly refreshAheadMs: number,
    private readonly maxEntries = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): Promise<V> {
    const entry = this.entries.get(key);
    const now = this.now();
    if (entry?.value !== undefined && entry.until > now) {
      if (!entry.loading && entry.until - now <= this.refreshAheadMs) void this.start(key).catch(() => undefined);
      return Promise.resolve(entry.value);
    }
    return entry?.loading ?? this.start(key);
  }

  /** Drops the entries whose value `matches`, and every load in flight (its key's value is not known yet). */
  forget(matches: (value: V) => boolean): void {
    for (const [key, entry] of this.entries) {
      if (entry.loading || entry.value === undefined || matches(entry.value)) this.entries.delete(key);
    }
  }

  private start(key: string): Promise<V> {
    const startedAt = this.now();
    const entry = this.entries.get(key) ?? { until: 0 };
    const loading: Promise<V> = this.load(key).then(
      (value) => {
        if (this.entries.get(key)?.loading === loading) {
          this.entries.set(key, { value, until: startedAt + this.ttlMs });
        }
        return value;
      },
      (err: unknown) => {
        const current = this.entries.get(key);
        if (current?.loading === loading) {
          if (current.value === undefined) this.entries.delete(key);
          else this.entries.set(key, { value: current.value, until: current.until });
        }
        throw err;
      },
    );
    if (!this.entries.has(key) && this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, { ...entry, loading });
    return loading;
  }
}
