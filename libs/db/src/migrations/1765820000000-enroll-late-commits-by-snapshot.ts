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
 * Each of the pass's reads has an index only it can use, whatever the statistics say. With statistics that did not
 * know a fresh segment, every index led by `segment_id` looked as good as another for it, and the planner read the
 * segment's id ranges (the cursor's, the bounded look at what lies past it, the new cursor) from the window's index
 * or the open-membership key, all 20,000 entries of the segment where a handful were wanted (sop-enroll-plan). So
 * the id index is rebuilt with the predicate `(exited_at IS NULL) IS TRUE`, which those statements state and which
 * implies no other index's `exited_at IS NULL`; the late arms test `(exited_at IS NULL) IS NOT FALSE`, which implies
 * neither, so the writer index is theirs alone. It holds closed memberships too (a few: those written since a pass).
 * The window's index (`segment_memberships_entered_idx`) has no other reader and is dropped.
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
      CREATE INDEX segment_memberships_written_idx ON segment_memberships (segment_id, written_xid) WHERE written_xid IS NOT NULL;
      DROP INDEX segment_memberships_entered_idx, segment_memberships_segment_idx;
      CREATE INDEX segment_memberships_segment_idx ON segment_memberships (segment_id, id) WHERE (exited_at IS NULL) IS TRUE;
      ALTER TABLE sops ADD COLUMN enroll_snapshot pg_snapshot;
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE sops DROP COLUMN enroll_snapshot;
      DROP INDEX segment_memberships_written_idx, segment_memberships_segment_idx;
      CREATE INDEX segment_memberships_segment_idx ON segment_memberships (segment_id, id) WHERE exited_at IS NULL;
      CREATE INDEX segment_memberships_entered_idx ON segment_memberships (segment_id, entered_at) WHERE exited_at IS NULL;
      ALTER TABLE segment_memberships DROP COLUMN written_xid;
    `);
  }
}
