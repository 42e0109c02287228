import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the console shows of an import: how many rows made new contacts (the rest of the imported rows updated
 * existing ones) and the name of the file it came from. The list of recent imports reads newest first.
 */
export class ImportDetails1765065600000 implements MigrationInterface {
  name = 'ImportDetails1765065600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE imports ADD COLUMN created_rows integer NOT NULL DEFAULT 0, ADD COLUMN file_name text;
      DROP INDEX imports_tenant_idx;
      CREATE INDEX imports_tenant_idx ON imports (tenant_id, created_at DESC, id DESC);
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      DROP INDEX imports_tenant_idx;
      CREATE INDEX imports_tenant_idx ON imports (tenant_id, created_at);
      ALTER TABLE imports DROP COLUMN created_rows, DROP COLUMN file_name;
    `);
  }
}
