import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tenants, teams, users, API keys and the diagnostic round trips. created_at keeps millisecond
 * precision, the precision of a JavaScript Date, so keyset cursors round-trip exactly.
 */
export class Foundation1763856000000 implements MigrationInterface {
  name = 'Foundation1763856000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      );
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        email text NOT NULL,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'ops', 'manager', 'employee')),
        team_id uuid,
        password_hash text NOT NULL,
        disabled_at timestamptz,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_email_key UNIQUE (email),
        CONSTRAINT users_tenant_id_key UNIQUE (tenant_id, id)
      );
      CREATE TABLE teams (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        manager_id uuid,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT teams_tenant_name_key UNIQUE (tenant_id, name),
        CONSTRAINT teams_tenant_id_key UNIQUE (tenant_id, id),
        -- composite keys keep a team's manager inside the team's tenant
        CONSTRAINT teams_manager_fk FOREIGN KEY (tenant_id, manager_id)
          REFERENCES users (tenant_id, id) ON DELETE SET NULL (manager_id)
      );
      ALTER TABLE users ADD CONSTRAINT users_team_fk FOREIGN KEY (tenant_id, team_id)
        REFERENCES teams (tenant_id, id) ON DELETE SET NULL (team_id);
      CREATE INDEX users_tenant_idx ON users (tenant_id, created_at);
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'ops', 'manager', 'employee')),
        prefix text NOT NULL,
        secret_hash text NOT NULL,
        created_by uuid,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz,
        CONSTRAINT api_keys_prefix_key UNIQUE (prefix)
      );
      CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, created_at);
      CREATE TABLE round_trips (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        requested_by uuid,
        status text NOT NULL CHECK (status IN ('pending', 'completed')),
        workflow_id text NOT NULL UNIQUE,
        worker_identity text,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        completed_at timestamptz
      );
      CREATE INDEX round_trips_tenant_idx ON round_trips (tenant_id, created_at);
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE round_trips, api_keys, teams, users, tenants CASCADE`);
  }
}
