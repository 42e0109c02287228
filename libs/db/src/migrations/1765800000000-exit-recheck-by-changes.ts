import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The exit pass's late-commit re-check starts from the changes, not from the enrollments written since the bound.
 *
 * Re-checking every enrollment written since the bound made the first two passes after a bulk enrollment evaluate
 * each of its enrollments: 284 s and 193 s after 10,000,000 entrants (docs/measurements.md). A change can only have
 * missed an enrollment if the enrollment's snapshot did not see it, so its transaction id is at least that snapshot's
 * xmin; the pass now reads the exit-relevant outbox events written since a second bound (`exit_recheck_changes_from`,
 * the re-check bound before its last move, at most that xmin: see `applyExits`) and re-checks only those contacts'
 * recent enrollments. Each outbox row records the id of the transaction that wrote it (`written_xid`); the index
 * covers only the events whose trigger queues exit checks.
 *
 * A SOP starts its change bound at the xmin of the snapshot that created it: no enrollment of it can miss a change
 * from before (an enrollment's transaction has its id once the SOP is active), and a new journey's first passes do
 * not read the tenant's whole outbox. Existing SOPs start at the migration's xmin.
 *
 * The outbox column gets its default without a rewrite. The events of the last five minutes get the migration's own
 * id, so the first passes after it re-check them. `enrollments_recheck_idx` is dropped: nothing reads enrollments by
 * `entered_xid` any more, and a bulk enrollment no longer writes that index.
 */
export class ExitRecheckByChanges1765800000000 implements MigrationInterface {
  name = 'ExitRecheckByChanges1765800000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE domain_events ADD COLUMN written_xid xid8;
      ALTER TABLE domain_events ALTER COLUMN written_xid SET DEFAULT pg_current_xact_id();
      UPDATE domain_events SET written_xid = pg_current_xact_id() WHERE created_at > now() - interval '5 minutes';
      CREATE INDEX domain_events_exit_changes_idx ON domain_events (tenant_id, written_xid)
        WHERE type IN ('contact.updated', 'contact.tags_changed', 'segment.exited') AND payload ? 'contactIds';
      ALTER TABLE sops ADD COLUMN exit_recheck_changes_from xid8;
      UPDATE sops SET exit_recheck_changes_from = pg_snapshot_xmin(pg_current_snapshot());
      ALTER TABLE sops ALTER COLUMN exit_recheck_changes_from SET DEFAULT pg_snapshot_xmin(pg_current_snapshot());
      DROP INDEX enrollments_recheck_idx;
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE INDEX enrollments_recheck_idx ON enrollments ((sop_id::text), entered_xid) WHERE status = 'active' AND entered_xid IS NOT NULL;
      ALTER TABLE sops DROP COLUMN exit_recheck_changes_from;
      DROP INDEX domain_events_exit_changes_idx;
      ALTER TABLE domain_events DROP COLUMN written_xid;
    `);
  }
}
