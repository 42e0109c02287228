import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox trigger that queues exit checks fires in every session, also one that has set
 * `session_replication_role = replica`: the CSV import merges with the per-row foreign-key triggers off
 * that way (see `holdChunkReferences`), and its `contact.tags_changed` and `segment.exited` events then
 * queued no exit check, so a `tagAdded` or `leftSegment` exit from an import waited for another change.
 */
export class ExitChecksAlways1765754000000 implements MigrationInterface {
  name = 'ExitChecksAlways1765754000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE domain_events ENABLE ALWAYS TRIGGER domain_events_queue_exit_checks`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE domain_events ENABLE TRIGGER domain_events_queue_exit_checks`);
  }
}
