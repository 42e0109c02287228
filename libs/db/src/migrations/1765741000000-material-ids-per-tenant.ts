import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A material id a client chooses is unique per organization, as every other client-chosen id: another
 * organization's id is free here, so a 409 never says that it exists elsewhere.
 */
export class MaterialIdsPerTenant1765741000000 implements MigrationInterface {
  name = 'MaterialIdsPerTenant1765741000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE materials DROP CONSTRAINT materials_pkey;
      ALTER TABLE materials DROP CONSTRAINT materials_tenant_id_key, ADD CONSTRAINT materials_pkey PRIMARY KEY (tenant_id, id);
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE materials DROP CONSTRAINT materials_pkey;
      ALTER TABLE materials ADD CONSTRAINT materials_pkey PRIMARY KEY (id), ADD CONSTRAINT materials_tenant_id_key UNIQUE (tenant_id, id);
    `);
  }
}
