import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 16, applying WeCom's callback events: each kept event says, once applied, what it did (`outcome`) or why
 * it could not be applied (`error`), in the same transaction as its effect and its `processed_at`; a customer
 * group WeCom dismissed is marked (its history and tasks stay) rather than deleted.
 */
export class WecomEvents1765730000000 implements MigrationInterface {
  name = 'WecomEvents1765730000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE wecom_callback_events ADD COLUMN outcome text, ADD COLUMN error text;
      CREATE INDEX wecom_callback_events_errors ON wecom_callback_events (tenant_id, processed_at DESC) WHERE error IS NOT NULL;
      ALTER TABLE customer_groups ADD COLUMN wecom_dismissed_at timestamptz;
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE customer_groups DROP COLUMN wecom_dismissed_at;
      DROP INDEX wecom_callback_events_errors;
      ALTER TABLE wecom_callback_events DROP COLUMN outcome, DROP COLUMN error;
    `);
  }
}
