import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two fixes to the exit pass's late-commit re-check (see `applyExits`), at deploy.
 *
 * The kept snapshot's second bound becomes the id of the pass that kept it (a snapshot's xmax is not a bound on the
 * ids already handed out: Postgres sets it from the last transaction that ended). The kept xmax values are dropped, so
 * each SOP's next pass keeps a snapshot again as a first pass does; the bounds themselves stay where they are.
 *
 * Deploying `ExitRecheckByChanges` loses no re-check. Before it, a pass re-checked every enrollment written since the
 * SOP's bound; after it, only those whose contacts have an exit-relevant outbox event written since the change bound,
 * and the events written before it carry no writer id (only the last five minutes' got one). An enrollment that raced
 * a change before the deploy, in a journey that ran no pass since (paused, or its dispatcher between wakes), would
 * never be re-checked. So each active enrollment the old re-check would still read gets one queued exit check, as does
 * each hand-over entry (it entered at the finishing pass's time, which can be minutes before the change it missed)
 * and each finished enrollment a cap reopened (changes made while it was closed queued nothing): the next pass
 * evaluates it against everything committed by then, and a later change queues its own check.
 * This holds when both migrations run in one deploy with the workers stopped from the first migration until the new
 * code runs (an old worker would keep xmax bounds again), as the run command and compose do (migrate, then start);
 * a database that ran passes in between may have moved its bounds past such a pair.
 * A no-op on a new database; on a live one, one read of the active enrollments, and one queued check per enrollment
 * a journey entered since its bound (after a bulk enrollment, its next pass evaluates them all, once).
 */
export class ExitRecheckQueueAtDeploy1765810000000 implements MigrationInterface {
  name = 'ExitRecheckQueueAtDeploy1765810000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      UPDATE sops SET exit_recheck_next = NULL, exit_recheck_after = NULL WHERE exit_recheck_next IS NOT NULL;
      INSERT INTO sop_exit_checks (tenant_id, sop_id, contact_id)
      SELECT e.tenant_id, e.sop_id, e.contact_id
        FROM enrollments e
        JOIN sops s ON s.id = e.sop_id
        JOIN sop_versions v ON v.sop_id = s.id AND v.version = s.current_version
       WHERE e.status = 'active' AND (e.entered_xid >= coalesce(s.exit_recheck_from, '0'::xid8) OR e.entry_no < 0 OR e.finished_at IS NOT NULL)
         AND jsonb_array_length(coalesce(v.definition->'policies'->'exitOn', '[]'::jsonb)) > 0;
    `);
  }

  async down(): Promise<void> {
    // The queued checks are consumed by the next exit passes, and the kept snapshots are kept again: nothing to undo.
  }
}
