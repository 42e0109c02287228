import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Deploying `ExitRecheckByChanges` loses no late-commit re-check. Before it, an exit pass re-checked every enrollment
 * written since the SOP's bound; after it, only those whose contacts have an exit-relevant outbox event written since
 * the change bound, and the events written before it carry no writer id (only the last five minutes' got one). An
 * enrollment that raced a change before the deploy, in a journey that ran no pass since (paused, or its dispatcher
 * between wakes), would never be re-checked. So each enrollment the old re-check would still read gets one queued exit
 * check: the next pass evaluates it against everything committed by then, and a later change queues its own check.
 * A no-op on a new database; on a live one, one read of the active enrollments.
 */
export class ExitRecheckQueueAtDeploy1765810000000 implements MigrationInterface {
  name = 'ExitRecheckQueueAtDeploy1765810000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      INSERT INTO sop_exit_checks (tenant_id, sop_id, contact_id)
      SELECT e.tenant_id, e.sop_id, e.contact_id
        FROM enrollments e
        JOIN sops s ON s.id = e.sop_id
        JOIN sop_versions v ON v.sop_id = s.id AND v.version = s.current_version
       WHERE e.status = 'active' AND e.entered_xid >= coalesce(s.exit_recheck_from, '0'::xid8)
         AND jsonb_array_length(coalesce(v.definition->'policies'->'exitOn', '[]'::jsonb)) > 0
    `);
  }

  async down(): Promise<void> {
    // The queued checks are consumed by the next exit pass; nothing to undo.
  }
}
