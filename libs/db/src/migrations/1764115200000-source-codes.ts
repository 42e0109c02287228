import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Acquisition codes: a contact arriving through one gets its tags and its owner. */
export class SourceCodes1764115200000 implements MigrationInterface {
  name = 'SourceCodes1764115200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE source_codes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        code text NOT NULL,
        name text NOT NULL,
        tag_ids uuid[] NOT NULL DEFAULT '{}',
        owner_id uuid,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT source_codes_tenant_code_key UNIQUE (tenant_id, code),
        CONSTRAINT source_codes_owner_fk FOREIGN KEY (tenant_id, owner_id)
          REFERENCES users (tenant_id, id) ON DELETE SET NULL (owner_id)
      );
      CREATE INDEX source_codes_tag_ids_gin ON source_codes USING gin (tag_ids);
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE source_codes`);
  }
}
