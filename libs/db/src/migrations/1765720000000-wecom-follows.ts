import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 16, the full sync: who in the corporation follows which external contact (WeCom's follow_user), with
 * the corp tags that member gave the contact. A contact appears once per follower in WeCom's pages, spread over
 * many pages, so the sync keeps each follow and derives a contact's owner (the member who added it first) and
 * its corp tags (the union over its followers) from these rows instead of from one page. `run_id` is the sync
 * run that last saw the follow: a finished full sync removes the follows it did not see.
 */
export class WecomFollows1765720000000 implements MigrationInterface {
  name = 'WecomFollows1765720000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE wecom_follows (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        external_user_id text NOT NULL,
        wecom_user_id text NOT NULL,
        followed_at timestamptz NOT NULL,
        tag_ids text[] NOT NULL DEFAULT '{}',
        run_id bigint,
        PRIMARY KEY (tenant_id, external_user_id, wecom_user_id)
      );
      CREATE INDEX wecom_follows_run_idx ON wecom_follows (tenant_id, run_id);
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE wecom_follows`);
  }
}
