import type { MigrationInterface, QueryRunner } from 'typeorm';

/** When each tenant's time-based rules were last swept: the next sweep looks only past this. */
export class SilenceSweeps1764288000000 implements MigrationInterface {
  name = 'SilenceSweeps1764288000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE silence_sweeps (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        swept_at timestamptz(3) NOT NULL
      );
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE silence_sweeps`);
  }
}
