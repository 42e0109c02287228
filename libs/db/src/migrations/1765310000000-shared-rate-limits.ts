import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 15. Login and signup counters live in Postgres, so every API process counts the same attempts (in
 * memory, N processes let N times the limit through). UNLOGGED: a counter is worth less than the WAL it would
 * write, and a crash that empties the table only forgives the attempts of the last minutes.
 */
export class SharedRateLimits1765310000000 implements MigrationInterface {
  name = 'SharedRateLimits1765310000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE UNLOGGED TABLE rate_limit_counters (
        key text PRIMARY KEY,
        hits int NOT NULL,
        window_ends timestamptz NOT NULL,
        blocked_until timestamptz
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE rate_limit_counters');
  }
}
