import type { MigrationInterface, QueryRunner } from 'typeorm';

/** CSV imports as resources: progress while running, counts and per-row errors afterwards. */
export class Imports1764028800000 implements MigrationInterface {
  name = 'Imports1764028800000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE imports (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        kind text NOT NULL DEFAULT 'contacts',
        status text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
        processed_rows integer NOT NULL DEFAULT 0,
        imported_rows integer NOT NULL DEFAULT 0,
        error_rows integer NOT NULL DEFAULT 0,
        errors jsonb NOT NULL DEFAULT '[]',
        message text,
        created_by uuid,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        finished_at timestamptz(3)
      );
      CREATE INDEX imports_tenant_idx ON imports (tenant_id, created_at);
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE imports`);
  }
}
