import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The employee's inbox: snoozes, skip reasons, an append-only history of each task, and tracked-link opens. */
export class Inbox1764460800000 implements MigrationInterface {
  name = 'Inbox1764460800000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE tasks ADD COLUMN snoozed_until timestamptz(3), ADD COLUMN skip_reason text;

      CREATE TABLE task_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id uuid NOT NULL,
        task_id bigint NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
        action text NOT NULL CHECK (action IN ('completed', 'skipped', 'snoozed', 'reassigned')),
        actor_id uuid,
        detail jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz(3) NOT NULL DEFAULT now()
      );
      CREATE INDEX task_events_task_idx ON task_events (task_id, id);

      -- tracked-link opens: one row per task, material and day (in the contact's zone); repeats count up
      CREATE TABLE link_opens (
        tenant_id uuid NOT NULL,
        task_id bigint NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
        material_index int NOT NULL,
        day date NOT NULL,
        opens int NOT NULL DEFAULT 1,
        first_opened_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (task_id, material_index, day)
      );
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      DROP TABLE link_opens, task_events;
      ALTER TABLE tasks DROP COLUMN snoozed_until, DROP COLUMN skip_reason;
    `);
  }
}
