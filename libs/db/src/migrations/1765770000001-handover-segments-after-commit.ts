import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Owner segments of a handover follow right after its commit instead of inside its transaction (issue 14): the
 * handover commits with `segments_pending`, and whoever evaluates the moved contacts' owner-based segments and
 * computed tags (the API just after answering; the worker's relay for any left over, e.g. after a restart) clears it
 * in the same transaction as the evaluation. The partial index finds the few pending rows.
 */
export class HandoverSegmentsAfterCommit1765770000001 implements MigrationInterface {
  name = 'HandoverSegmentsAfterCommit1765770000001';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE handovers ADD COLUMN segments_pending boolean NOT NULL DEFAULT false;
      CREATE INDEX handovers_segments_pending_idx ON handovers (created_at) WHERE segments_pending;
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX handovers_segments_pending_idx; ALTER TABLE handovers DROP COLUMN segments_pending`);
  }
}
