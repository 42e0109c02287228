import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A recurring or broadcast task that no day within a week had room for (a contact cap or an executor's
 * capacity) is written `held`, "no room within 7 days: …". It comes back when room appears: the page that
 * holds it queues it here, and the reminder sweep re-runs its placement (`retryHeldTasks`, libs/engine) every
 * hour (`retry_at`) until the week after its first due time ends (`until`); then the row goes and the task
 * stays held, a record of what was not sent. A placed task gets a `released` history row.
 */
export class HeldTaskRetries1765759000000 implements MigrationInterface {
  name = 'HeldTaskRetries1765759000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE task_hold_retries (
        task_id bigint PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        sop_id uuid NOT NULL,
        retry_at timestamptz(3) NOT NULL,
        until timestamptz(3) NOT NULL
      );
      CREATE INDEX task_hold_retries_due_idx ON task_hold_retries (retry_at);
      CREATE INDEX task_hold_retries_sop_idx ON task_hold_retries (sop_id, retry_at);
      -- Tasks held for room before this migration, whose week is not over, are tried again from now on.
      INSERT INTO task_hold_retries (task_id, tenant_id, sop_id, retry_at, until)
      SELECT id, tenant_id, sop_id, now(), due_at + interval '7 days' FROM tasks
       WHERE status = 'held' AND held_reason LIKE 'no room within %' AND occurrence IS NOT NULL AND due_at + interval '7 days' > now();
      ALTER TABLE task_events DROP CONSTRAINT task_events_action_check,
        ADD CONSTRAINT task_events_action_check CHECK (action IN ('completed', 'skipped', 'snoozed', 'reassigned', 'deferred', 'expired', 'released'));
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      DROP TABLE task_hold_retries;
      DELETE FROM task_events WHERE action = 'released';
      ALTER TABLE task_events DROP CONSTRAINT task_events_action_check,
        ADD CONSTRAINT task_events_action_check CHECK (action IN ('completed', 'skipped', 'snoozed', 'reassigned', 'deferred', 'expired'));
    `);
  }
}
