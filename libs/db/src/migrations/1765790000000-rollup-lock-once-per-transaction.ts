import type { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Written out here on purpose (no import from the libraries or from the earlier migration): a migration must
 * mean the same forever. The lock is the one of RollupsPerSopAndTenantLocks1765600000000 (class 386229, hashtext
 * of the tenant id); only how often a writer asks for it changes.
 */

/** The transaction-local setting naming the last tenant whose rollup lock this transaction took (nothing else sets it). */
const LOCKED = 'sop.rollup_lock_tenant';

const TABLES = ['tasks', 'responses'];

/** The rollups' triggers, lock first: fired whatever the session's replication role (ENABLE ALWAYS). */
const ALWAYS: [string, string][] = [
  ['tasks', 'lock_tenant_rollups'], ['tasks', 'lock_tenant_rollups_delete'],
  ['tasks', 'tasks_rollup_insert'], ['tasks', 'tasks_rollup_update'], ['tasks', 'tasks_rollup_delete'],
  ['responses', 'lock_tenant_rollups'], ['responses', 'lock_tenant_rollups_delete'],
  ['responses', 'responses_attribute'], ['responses', 'responses_count_insert'], ['responses', 'responses_count_delete'],
];

/**
 * The organization's rollup lock, taken once per transaction and organization instead of once per written row
 * (issue 14, handover): the per-row trigger (`lock_tenant_rollups`, before the row is written, as before) now has a
 * `WHEN` condition that skips it while the transaction-local setting `sop.rollup_lock_tenant` names the row's
 * organization, and the function sets that name just after taking the lock. A `WHEN` condition is evaluated without
 * calling PL/pgSQL; a 100,000-task handover made 100,000 calls, each asking the lock manager for a lock it already held.
 *
 * Why a writer still holds the lock whenever the condition skips it: the setting is set only by the function, after
 * `pg_advisory_xact_lock_shared` returned, with `set_config(…, true)`, which lasts until the end of the transaction and
 * is undone with a rolled-back savepoint, as the lock taken in it is (both checked); a lock taken earlier in the transaction is kept
 * to its end. So a rebuild (`pg_advisory_xact_lock`, exclusive) still waits for every writer of the organization, and
 * a writer for the rebuild, before its first row of that organization is written. The setting holds one organization:
 * a statement writing several calls the function again on each change (it asks for a lock it may hold: correct, as
 * before, only not skipped).
 *
 * The rollups' triggers and their lock now fire whatever the session's replication role (ENABLE ALWAYS): a writer that
 * turns the per-row foreign-key checks off with `session_replication_role = replica` (the CSV import's merge, and since
 * this migration the handover's moves, libs/engine handover.ts `holdRecipients`) must still keep the rollups and take
 * the lock; before, such a session would have skipped them.
 *
 * DELETE gets a trigger of its own (a `WHEN` condition of a delete can read only OLD); the names keep the lock first
 * among the row triggers (they fire in name order: `lock_tenant_rollups`, `lock_tenant_rollups_delete`, then
 * `responses_attribute`).
 */
export class RollupLockOncePerTransaction1765790000000 implements MigrationInterface {
  name = 'RollupLockOncePerTransaction1765790000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE OR REPLACE FUNCTION rollups_tenant_share_lock() RETURNS trigger LANGUAGE plpgsql AS $fn$
      DECLARE tenant text := CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END::text;
      BEGIN
        PERFORM pg_advisory_xact_lock_shared(386229, hashtext(tenant));
        PERFORM set_config('${LOCKED}', tenant, true);
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
      END $fn$;
      ${TABLES.map((t) => `
      DROP TRIGGER lock_tenant_rollups ON ${t};
      CREATE TRIGGER lock_tenant_rollups BEFORE INSERT OR UPDATE ON ${t} FOR EACH ROW
        WHEN (current_setting('${LOCKED}', true) IS DISTINCT FROM NEW.tenant_id::text)
        EXECUTE FUNCTION rollups_tenant_share_lock();
      CREATE TRIGGER lock_tenant_rollups_delete BEFORE DELETE ON ${t} FOR EACH ROW
        WHEN (current_setting('${LOCKED}', true) IS DISTINCT FROM OLD.tenant_id::text)
        EXECUTE FUNCTION rollups_tenant_share_lock();`).join('')}
      ${ALWAYS.map(([t, name]) => `ALTER TABLE ${t} ENABLE ALWAYS TRIGGER ${name};`).join('\n      ')}
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      ${ALWAYS.map(([t, name]) => `ALTER TABLE ${t} ENABLE TRIGGER ${name};`).join('\n      ')}
      ${TABLES.map((t) => `
      DROP TRIGGER lock_tenant_rollups_delete ON ${t};
      DROP TRIGGER lock_tenant_rollups ON ${t};
      CREATE TRIGGER lock_tenant_rollups BEFORE INSERT OR UPDATE OR DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION rollups_tenant_share_lock();`).join('')}
      CREATE OR REPLACE FUNCTION rollups_tenant_share_lock() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        PERFORM pg_advisory_xact_lock_shared(386229, hashtext(CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END::text));
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
      END $fn$;
    `);
  }
}
