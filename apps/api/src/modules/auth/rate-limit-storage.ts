import type { ThrottlerStorage } from '@nestjs/throttler';
import type { DataSource } from 'typeorm';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** Every this many counts a process also deletes the counters whose window and block are over. */
const PRUNE_EVERY = 500;

/**
 * The login and signup counters, in Postgres (`rate_limit_counters`) so that every API process counts the
 * same attempts. A fixed window per key: the first hit opens it for `ttl`; a hit over `limit` blocks the key
 * for `blockDuration`, during which hits are refused without counting. One statement per hit.
 */
export class PostgresRateLimitStorage implements ThrottlerStorage {
  private counted = 0;

  constructor(private readonly db: DataSource) {}

  async increment(key: string, ttl: number, limit: number, blockDuration: number): Promise<ThrottlerStorageRecord> {
    if (++this.counted % PRUNE_EVERY === 0) {
      void this.db.query(`DELETE FROM rate_limit_counters WHERE window_ends < now() AND (blocked_until IS NULL OR blocked_until < now())`)
        .catch(() => undefined);
    }
    const [row] = await this.db.query(
      `WITH spans AS (SELECT now() + make_interval(secs => $2 / 1000.0) AS window_ends, now() + make_interval(secs => $4 / 1000.0) AS blocked_until)
       INSERT INTO rate_limit_counters AS c (key, hits, window_ends, blocked_until)
       SELECT $1, 1, window_ends, CASE WHEN 1 > $3 THEN blocked_until END FROM spans
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN c.blocked_until > now() THEN c.hits WHEN c.window_ends <= now() THEN 1 ELSE c.hits + 1 END,
         window_ends = CASE WHEN c.blocked_until > now() OR c.window_ends > now() THEN c.window_ends ELSE excluded.window_ends END,
         blocked_until = CASE
           WHEN c.blocked_until > now() THEN c.blocked_until
           WHEN (CASE WHEN c.window_ends <= now() THEN 1 ELSE c.hits + 1 END) > $3 THEN (SELECT blocked_until FROM spans)
         END
       RETURNING hits,
         greatest(0, ceil(extract(epoch FROM window_ends - now())))::int AS window_left,
         coalesce(blocked_until > now(), false) AS blocked,
         greatest(0, ceil(extract(epoch FROM blocked_until - now())))::int AS block_left`,
      [key, ttl, limit, blockDuration],
    );
    return { totalHits: row.hits, timeToExpire: row.window_left, isBlocked: row.blocked, timeToBlockExpire: row.block_left ?? 0 };
  }
}
