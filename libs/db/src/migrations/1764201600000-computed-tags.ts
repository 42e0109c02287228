import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Computed tags: per exclusive tag group, ordered cases (tag + segment rule); first match wins. */
export class ComputedTags1764201600000 implements MigrationInterface {
  name = 'ComputedTags1764201600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE computed_tag_rules (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        group_id uuid NOT NULL REFERENCES tag_groups(id) ON DELETE CASCADE,
        cases jsonb NOT NULL,
        tag_ids uuid[] NOT NULL DEFAULT '{}', -- every tag the rule gives or tests: deleting them is refused
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT computed_tag_rules_group_key UNIQUE (group_id)
      );
      CREATE INDEX computed_tag_rules_tenant_idx ON computed_tag_rules (tenant_id);
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE computed_tag_rules`);
  }
}
