import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The enrollment pass finds the memberships that committed after its cursor passed their ids by transaction ids, not
 * by a five-minute window (see `enrollSql`).
 *
 * The window made every pass in the five minutes after a segment was saved re-read and re-probe each of its new
 * members: 100,000 index probes a pass after a 100,000-member journey was activated, and with statistics taken before
 * those enrollments existed the planner scanned the SOP's enrollments once per member instead, past the activity's
 * two-minute timeout (the fault tests' passes hung in full runs). Each membership now records the id of the
 * transaction that wrote it (`written_xid`), and each SOP the snapshot of its last enrollment statement
 * (`enroll_snapshot`): a membership under the cursor is looked at again only when that snapshot did not see it.
 *
 * The index leads with the writer's id and covers the whole table: the planner then reads the actual highest id from
 * it when it estimates a range past its statistics (as it does for the memberships just written, which no statistics
 * know yet), and the range is estimated at its real size, not at whatever the segment is taken for. The window's
 * index (`segment_memberships_entered_idx`) had no other reader and is dropped: with statistics that did not know the
 * segment, the planner served the segment's id ranges from it and read the whole segment.
 *
 * The column gets its default without a rewrite; rows written before it keep NULL. A SOP starts without a snapshot,
 * so its first pass after the deploy looks at the last five minutes once more, as before (reading the segment once).
 */
export class EnrollLateCommitsBySnapshot1765820000000 implements MigrationInterface {
  name = 'EnrollLateCommitsBySnapshot1765820000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE segment_memberships ADD COLUMN written_xid xid8;
      ALTER TABLE segment_memberships ALTER COLUMN written_xid SET DEFAULT pg_current_xact_id();
      CREATE INDEX segment_memberships_written_idx ON segment_memberships (written_xid, segment_id);
      DROP INDEX segment_memberships_entered_idx;
      ALTER TABLE sops ADD COLUMN enroll_snapshot pg_snapshot;
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE sops DROP COLUMN enroll_snapshot;
      DROP INDEX segment_memberships_written_idx;
      CREATE INDEX segment_memberships_entered_idx ON segment_memberships (segment_id, entered_at) WHERE exited_at IS NULL;
      ALTER TABLE segment_memberships DROP COLUMN written_xid;
    `);
  }
}
