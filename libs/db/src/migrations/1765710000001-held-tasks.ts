import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A task whose content could not be rendered is `held`, with the reason, and no content: no executor sees it
 * (every list, reminder and count of work asks for `pending`), and the SOP's page shows the held tasks by
 * reason. Ops and admins are told once per SOP version and reason (`task_held` notifications).
 */
export class HeldTasks1765710000001 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE tasks ADD COLUMN held_reason text,
        DROP CONSTRAINT tasks_status_check,
        ADD CONSTRAINT tasks_status_check CHECK (status IN ('pending', 'done', 'skipped', 'expired', 'cancelled', 'held')),
        ADD CONSTRAINT tasks_held_reason_check CHECK ((status = 'held') = (held_reason IS NOT NULL));
      CREATE INDEX tasks_held_idx ON tasks (sop_id, held_reason) WHERE status = 'held';
      ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check,
        ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('digest', 'due_soon', 'escalation', 'material_opened', 'manager_digest', 'task_held'));
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      DELETE FROM notifications WHERE kind = 'task_held';
      ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check,
        ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('digest', 'due_soon', 'escalation', 'material_opened', 'manager_digest'));
      DELETE FROM tasks WHERE status = 'held';
      DROP INDEX tasks_held_idx;
      ALTER TABLE tasks DROP CONSTRAINT tasks_held_reason_check, DROP CONSTRAINT tasks_status_check,
        ADD CONSTRAINT tasks_status_check CHECK (status IN ('pending', 'done', 'skipped', 'expired', 'cancelled')),
        DROP COLUMN held_reason;
    `);
  }
}
