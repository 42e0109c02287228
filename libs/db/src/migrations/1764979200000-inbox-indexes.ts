import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for the inbox lists at millions of tasks (measured with `npm run bench -- inbox`): the done list
 * reads an executor's finished tasks newest first; the today list reads open windows by their end (its order),
 * so neither walks past every overdue task first.
 */
export class InboxIndexes1764979200000 implements MigrationInterface {
  name = 'InboxIndexes1764979200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE INDEX tasks_executor_done_idx ON tasks (tenant_id, executor_id, finished_at DESC, id DESC) WHERE status IN ('done', 'skipped');
      CREATE INDEX tasks_executor_open_idx ON tasks (tenant_id, executor_id, due_until, id) WHERE status = 'pending';
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX tasks_executor_done_idx, tasks_executor_open_idx`);
  }
}
