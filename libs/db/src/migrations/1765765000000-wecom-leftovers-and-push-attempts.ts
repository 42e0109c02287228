import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 16, two gaps closed (docs/wecom.md):
 * - `wecom_contact_way_leftovers`: WeCom "contact me" configurations (`config_id`) that a channel code no longer
 *   uses but that WeCom may still hold, because `del_contact_way` failed (WeCom out of reach, an errcode) when the
 *   organization disconnected WeCom, when the code's QR code was taken off, or when a new configuration replaced
 *   it. Kept per code (and corporation: a config id is one corporation's) until deleted in WeCom or forgotten.
 * - `wecom_tag_pushes.attempts`, `last_error`, `given_up`: a contact's tag push failing with an error that is not
 *   WeCom's answer (ours, an answer we cannot use) is tried 5 times, then kept failed (`given_up`) until the
 *   contact's tags change again; a change to the contact's tags starts the count again.
 */
export class WecomLeftoversAndPushAttempts1765765000000 implements MigrationInterface {
  name = 'WecomLeftoversAndPushAttempts1765765000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE wecom_contact_way_leftovers (
        id bigserial PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        source_code_id uuid NOT NULL REFERENCES source_codes(id) ON DELETE CASCADE,
        corp_id text NOT NULL,
        config_id text NOT NULL,
        reason text NOT NULL CHECK (reason IN ('disconnected', 'removed', 'replaced')),
        last_error text NOT NULL,
        attempts int NOT NULL DEFAULT 1,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        tried_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT wecom_contact_way_leftovers_config_key UNIQUE (tenant_id, corp_id, config_id)
      );
      CREATE INDEX wecom_contact_way_leftovers_code_idx ON wecom_contact_way_leftovers (tenant_id, source_code_id);

      ALTER TABLE wecom_tag_pushes
        ADD COLUMN attempts int NOT NULL DEFAULT 0,
        ADD COLUMN last_error text,
        ADD COLUMN given_up boolean NOT NULL DEFAULT false;

      CREATE OR REPLACE FUNCTION wecom_queue_tag_pushes() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO wecom_tag_pushes (tenant_id, contact_id)
        SELECT DISTINCT n.tenant_id, n.contact_id
          FROM new_events n
          JOIN tags t ON t.id = n.tag_id AND t.wecom_tag_id IS NOT NULL
          JOIN contacts c ON c.id = n.contact_id AND c.wecom_external_user_id IS NOT NULL
         WHERE NOT (n.actor_type = 'system' AND n.actor_id IS NOT DISTINCT FROM 'wecom')
         ORDER BY 1, 2
        ON CONFLICT (tenant_id, contact_id) DO UPDATE
          SET version = wecom_tag_pushes.version + 1, queued_at = now(), error = NULL, failed_at = NULL,
              attempts = 0, last_error = NULL, given_up = false;
        RETURN NULL;
      END $$;
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE OR REPLACE FUNCTION wecom_queue_tag_pushes() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO wecom_tag_pushes (tenant_id, contact_id)
        SELECT DISTINCT n.tenant_id, n.contact_id
          FROM new_events n
          JOIN tags t ON t.id = n.tag_id AND t.wecom_tag_id IS NOT NULL
          JOIN contacts c ON c.id = n.contact_id AND c.wecom_external_user_id IS NOT NULL
         WHERE NOT (n.actor_type = 'system' AND n.actor_id IS NOT DISTINCT FROM 'wecom')
         ORDER BY 1, 2
        ON CONFLICT (tenant_id, contact_id) DO UPDATE
          SET version = wecom_tag_pushes.version + 1, queued_at = now(), error = NULL, failed_at = NULL;
        RETURN NULL;
      END $$;
      ALTER TABLE wecom_tag_pushes DROP COLUMN attempts, DROP COLUMN last_error, DROP COLUMN given_up;
      DROP TABLE wecom_contact_way_leftovers;
    `);
  }
}
