import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The exit pass's late-commit re-check, bounded by transaction ids instead of five minutes of entries.
 *
 * A change whose outbox trigger ran before an enrollment of its contact committed queued no exit check for it. Such
 * a change was written by a transaction that had its id before the enrollment committed, so before any later
 * snapshot's xmax. Each enrollment records the id of the transaction that wrote it (`entered_xid`); the pass
 * re-checks the enrollments written since the SOP's `exit_recheck_from`, and moves that bound up to the xmin of an
 * earlier pass's snapshot (`exit_recheck_next`) once its own snapshot's xmin has passed that snapshot's xmax
 * (`exit_recheck_after`): every transaction that could have missed an enrollment below the bound has then ended,
 * and this pass saw its change. See `applyExits`.
 *
 * The column gets its default without a rewrite; the enrollments of the old five-minute window get the migration's
 * own id, so the first passes re-check them. The index is keyed by the SOP as text, an expression no other
 * statement uses: the pass's look-up then has one index to take whatever the statistics say (a SOP they do not know
 * looks like a row or two in every index led by `sop_id`, and a tie could read the whole journey).
 */
export class ExitRecheckHorizon1765780000000 implements MigrationInterface {
  name = 'ExitRecheckHorizon1765780000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE enrollments ADD COLUMN entered_xid xid8;
      ALTER TABLE enrollments ALTER COLUMN entered_xid SET DEFAULT pg_current_xact_id();
      UPDATE enrollments SET entered_xid = pg_current_xact_id() WHERE status = 'active' AND entered_at > now() - interval '5 minutes';
      CREATE INDEX enrollments_recheck_idx ON enrollments ((sop_id::text), entered_xid) WHERE status = 'active' AND entered_xid IS NOT NULL;
      DROP INDEX enrollments_entered_idx;
      ALTER TABLE sops ADD COLUMN exit_recheck_from xid8, ADD COLUMN exit_recheck_next xid8, ADD COLUMN exit_recheck_after xid8;
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE sops DROP COLUMN exit_recheck_from, DROP COLUMN exit_recheck_next, DROP COLUMN exit_recheck_after;
      CREATE INDEX enrollments_entered_idx ON enrollments (sop_id, entered_at) WHERE status = 'active';
      DROP INDEX enrollments_recheck_idx;
      ALTER TABLE enrollments DROP COLUMN entered_xid;
    `);
  }
}
