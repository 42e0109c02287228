import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 16, what WeCom is the source of. Each row that came from WeCom carries WeCom's own id, unique per
 * tenant, so a sync or a callback that sees it again updates it instead of adding a second one:
 * - `wecom_users`: the corporation's members, each matched to one of our users (by email, or by hand);
 * - contacts by `external_userid`, customer groups by `chat_id`, tag groups and tags by their corp tag ids;
 * - `wecom_sync_runs`: each full or incremental sync, with its counts, resumable cursor and error.
 */
export class WecomDirectory1765740000000 implements MigrationInterface {
  name = 'WecomDirectory1765740000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE wecom_users (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        wecom_user_id text NOT NULL,
        name text NOT NULL DEFAULT '',
        email text,
        user_id uuid,
        -- how user_id was set; kept when the user is deleted (user_id becomes null): unmatched is user_id IS NULL
        matched_by text CHECK (matched_by IN ('email', 'hand')),
        active boolean NOT NULL DEFAULT true,
        synced_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, wecom_user_id),
        CONSTRAINT wecom_users_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE SET NULL (user_id)
      );
      CREATE UNIQUE INDEX wecom_users_user_key ON wecom_users (tenant_id, user_id) WHERE user_id IS NOT NULL;

      ALTER TABLE contacts ADD COLUMN wecom_external_user_id text;
      CREATE UNIQUE INDEX contacts_wecom_key ON contacts (tenant_id, wecom_external_user_id) WHERE wecom_external_user_id IS NOT NULL;
      ALTER TABLE customer_groups ADD COLUMN wecom_chat_id text;
      CREATE UNIQUE INDEX customer_groups_wecom_key ON customer_groups (tenant_id, wecom_chat_id) WHERE wecom_chat_id IS NOT NULL;
      ALTER TABLE tag_groups ADD COLUMN wecom_group_id text, ADD COLUMN wecom_order integer;
      CREATE UNIQUE INDEX tag_groups_wecom_key ON tag_groups (tenant_id, wecom_group_id) WHERE wecom_group_id IS NOT NULL;
      ALTER TABLE tags ADD COLUMN wecom_tag_id text, ADD COLUMN wecom_order integer;
      CREATE UNIQUE INDEX tags_wecom_key ON tags (tenant_id, wecom_tag_id) WHERE wecom_tag_id IS NOT NULL;

      CREATE TABLE wecom_sync_runs (
        id bigserial PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('full', 'incremental')),
        status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        counts jsonb NOT NULL DEFAULT '{}',
        cursor jsonb,
        error text
      );
      CREATE INDEX wecom_sync_runs_tenant_idx ON wecom_sync_runs (tenant_id, started_at DESC);
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      DROP TABLE wecom_sync_runs;
      DROP INDEX tags_wecom_key; ALTER TABLE tags DROP COLUMN wecom_tag_id, DROP COLUMN wecom_order;
      DROP INDEX tag_groups_wecom_key; ALTER TABLE tag_groups DROP COLUMN wecom_group_id, DROP COLUMN wecom_order;
      DROP INDEX customer_groups_wecom_key; ALTER TABLE customer_groups DROP COLUMN wecom_chat_id;
      DROP INDEX contacts_wecom_key; ALTER TABLE contacts DROP COLUMN wecom_external_user_id;
      DROP TABLE wecom_users;
    `);
  }
}
