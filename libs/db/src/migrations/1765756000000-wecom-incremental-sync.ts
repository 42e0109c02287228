import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 16, the incremental WeCom sync: it re-reads the members and customer groups that callbacks named since the
 * tenant's last successful sync started, so it finds a tenant's events by the time they were received; and the
 * members matched or unmatched by hand since then (`wecom_users.matched_at`), whose contacts' owners follow the match.
 */
export class WecomIncrementalSync1765756000000 implements MigrationInterface {
  name = 'WecomIncrementalSync1765756000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX wecom_callback_events_received ON wecom_callback_events (tenant_id, received_at)`);
    await db.query(`ALTER TABLE wecom_users ADD COLUMN matched_at timestamptz`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE wecom_users DROP COLUMN matched_at`);
    await db.query(`DROP INDEX wecom_callback_events_received`);
  }
}
