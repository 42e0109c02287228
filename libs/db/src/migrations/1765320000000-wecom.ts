import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 16, the connection and the callback. A tenant connects one WeCom corporation; its secrets are sealed
 * (AES-256-GCM, WECOM_SECRET_KEYS) and never leave the API. WeCom calls one unguessable path per tenant
 * (`callback_id`). Every event WeCom delivers is kept once, keyed by a digest of its decrypted text, so WeCom's
 * retries and replayed requests add nothing; `processed_at` is for the worker that applies them.
 */
export class Wecom1765320000000 implements MigrationInterface {
  name = 'Wecom1765320000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE wecom_connections (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        corp_id text NOT NULL,
        agent_id text NOT NULL,
        contact_secret text NOT NULL,
        agent_secret text NOT NULL,
        callback_token text NOT NULL,
        encoding_aes_key text NOT NULL,
        secrets_last4 jsonb NOT NULL,
        callback_id text NOT NULL UNIQUE,
        connected_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_callback_at timestamptz,
        last_sync_at timestamptz,
        last_error text,
        last_error_at timestamptz
      );
      CREATE TABLE wecom_callback_events (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        id bigserial NOT NULL,
        digest text NOT NULL,
        event text NOT NULL,
        change_type text,
        payload jsonb NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        processed_at timestamptz,
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, digest)
      );
      CREATE INDEX wecom_callback_events_unprocessed ON wecom_callback_events (tenant_id, id) WHERE processed_at IS NULL;
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE wecom_callback_events; DROP TABLE wecom_connections;');
  }
}
