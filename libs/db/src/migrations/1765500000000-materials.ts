import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The material library: reusable content steps pick instead of pasting URLs (docs/sops.md). */
export class Materials1765500000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE materials (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        -- a repeated create with this key answers the first material (the id in the body works too)
        idempotency_key text,
        kind text NOT NULL CHECK (kind IN ('link', 'article', 'image', 'file', 'mini_program', 'coupon')),
        -- '' is the library's top level; folders are names, made by using them
        folder text NOT NULL DEFAULT '',
        title text NOT NULL,
        summary text NOT NULL DEFAULT '',
        cover_url text,
        url text NOT NULL,
        -- tags a contact gets on opening the material's tracked link
        tag_ids uuid[] NOT NULL DEFAULT '{}',
        created_by uuid,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT materials_tenant_id_key UNIQUE (tenant_id, id),
        CONSTRAINT materials_idempotency_key UNIQUE (tenant_id, idempotency_key)
      );
      -- the library's pages, newest first, whole or by folder
      CREATE INDEX materials_page_idx ON materials (tenant_id, created_at DESC, id DESC);
      CREATE INDEX materials_folder_idx ON materials (tenant_id, folder, created_at DESC, id DESC);
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE materials`);
  }
}
