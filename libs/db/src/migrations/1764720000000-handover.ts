import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Handover: an audit row per operation that moved a user's contacts, groups and open tasks (or deferred
 * tasks for a leave), and users' leaves with their policy. A handover's id may come from the client, so a
 * repeated request finds the first one's row and moves nothing again.
 */
export class Handover1764720000000 implements MigrationInterface {
  name = 'Handover1764720000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE leaves (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        user_id uuid NOT NULL,
        starts_at timestamptz(3) NOT NULL,
        ends_at timestamptz(3) NOT NULL,
        policy text NOT NULL CHECK (policy IN ('reassign', 'defer')),
        -- reassign: to one user or spread over a team's active members; defer: neither
        to_user_id uuid,
        to_team_id uuid,
        reason text NOT NULL DEFAULT '',
        created_by uuid,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT leaves_tenant_id_key UNIQUE (tenant_id, id),
        CONSTRAINT leaves_period_check CHECK (ends_at > starts_at),
        CONSTRAINT leaves_target_check CHECK (
          (policy = 'defer' AND to_user_id IS NULL AND to_team_id IS NULL)
          OR (policy = 'reassign' AND (to_user_id IS NULL) <> (to_team_id IS NULL))),
        CONSTRAINT leaves_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT leaves_to_user_fk FOREIGN KEY (tenant_id, to_user_id) REFERENCES users (tenant_id, id) ON DELETE SET NULL (to_user_id),
        CONSTRAINT leaves_to_team_fk FOREIGN KEY (tenant_id, to_team_id) REFERENCES teams (tenant_id, id) ON DELETE SET NULL (to_team_id)
      );
      -- engine pages load the tenant's leaves not yet over; the API lists a user's
      CREATE INDEX leaves_tenant_ends_idx ON leaves (tenant_id, ends_at);
      CREATE INDEX leaves_user_idx ON leaves (user_id, starts_at);

      CREATE TABLE handovers (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        -- an Idempotency-Key header, when the client sent one instead of an id
        idempotency_key text,
        kind text NOT NULL CHECK (kind IN ('handover', 'leave')),
        leave_id uuid REFERENCES leaves(id) ON DELETE SET NULL,
        actor_id uuid,
        api_key_id uuid,
        from_user_id uuid NOT NULL,
        to_user_id uuid,
        to_team_id uuid,
        -- what moved: any of contacts, groups, tasks
        scope text[] NOT NULL,
        reason text NOT NULL DEFAULT '',
        contacts_moved int NOT NULL DEFAULT 0,
        groups_moved int NOT NULL DEFAULT 0,
        tasks_moved int NOT NULL DEFAULT 0,
        tasks_deferred int NOT NULL DEFAULT 0,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT handovers_tenant_key UNIQUE (tenant_id, idempotency_key),
        CONSTRAINT handovers_leave_key UNIQUE (leave_id)
      );
      CREATE INDEX handovers_tenant_created_idx ON handovers (tenant_id, created_at DESC, id DESC);
      CREATE INDEX handovers_from_idx ON handovers (from_user_id, created_at DESC);

      ALTER TABLE task_events DROP CONSTRAINT task_events_action_check,
        ADD CONSTRAINT task_events_action_check CHECK (action IN ('completed', 'skipped', 'snoozed', 'reassigned', 'deferred'));
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      DELETE FROM task_events WHERE action = 'deferred';
      ALTER TABLE task_events DROP CONSTRAINT task_events_action_check,
        ADD CONSTRAINT task_events_action_check CHECK (action IN ('completed', 'skipped', 'snoozed', 'reassigned'));
      DROP TABLE handovers, leaves;
    `);
  }
}
