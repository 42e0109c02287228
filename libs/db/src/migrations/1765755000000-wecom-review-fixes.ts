import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 16, review fixes:
 * - `wecom_mass_sends.poll_refusals`: WeCom refusing to read a template back (an errcode that is no rate limit) in
 *   a row; the read is tried again with backoff and given up after a few (the row `failed`, its tasks left to the
 *   executor), so one refused template never stops the read-back of the others.
 * - `wecom_mass_sends.attempted_at`: set (and committed) just before `add_moment_task` is called. A Moments intent
 *   left `creating` is failed on retry only when WeCom may have it (WeCom offers no lookup); one never sent is sent.
 *   Intents left `creating` before this column existed count as attempted (at most once, as before).
 * - `wecom_corp_tag_ops.attempts` / `last_error`: a tag operation failing with an error that is not WeCom's answer
 *   is tried a bounded number of times, then recorded as failed, so the tenant's queue moves on.
 */
export class WecomReviewFixes1765755000000 implements MigrationInterface {
  name = 'WecomReviewFixes1765755000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE wecom_mass_sends ADD COLUMN poll_refusals int NOT NULL DEFAULT 0, ADD COLUMN attempted_at timestamptz(3);
      UPDATE wecom_mass_sends SET attempted_at = created_at WHERE kind = 'moment' AND status = 'creating';
      ALTER TABLE wecom_corp_tag_ops ADD COLUMN attempts int NOT NULL DEFAULT 0, ADD COLUMN last_error text;
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE wecom_corp_tag_ops DROP COLUMN attempts, DROP COLUMN last_error;
      ALTER TABLE wecom_mass_sends DROP COLUMN poll_refusals, DROP COLUMN attempted_at;
    `);
  }
}
