import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Exit conditions are evaluated for the contacts that changed, not by scanning every active enrollment.
 * Every change that can make an exit hold is announced in the outbox (`contact.updated`,
 * `contact.tags_changed`, `segment.exited`, with `contactIds`); a trigger on the outbox queues one check per
 * active enrollment of those contacts in a journey with exit conditions, in the writer's own transaction, so
 * a queued check commits together with the change it is for. The dispatcher's exit pass deletes the checks it
 * sees and evaluates them in one statement (same snapshot): a check committed while a pass runs stays queued
 * for the next pass. Insert-only from writers: no row lock is shared with the dispatcher's pages.
 */
export class ExitChecks1765710000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE sop_exit_checks (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id uuid NOT NULL,
        sop_id uuid NOT NULL REFERENCES sops(id) ON DELETE CASCADE,
        contact_id uuid NOT NULL
      );
      CREATE INDEX sop_exit_checks_sop_idx ON sop_exit_checks (sop_id, contact_id);

      CREATE FUNCTION queue_sop_exit_checks() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        INSERT INTO sop_exit_checks (tenant_id, sop_id, contact_id)
        SELECT DISTINCT e.tenant_id, e.sop_id, e.contact_id
          FROM jsonb_array_elements_text(NEW.payload->'contactIds') AS c(id)
          JOIN enrollments e ON e.contact_id = c.id::uuid AND e.status = 'active' AND e.tenant_id = NEW.tenant_id
          JOIN sops s ON s.id = e.sop_id
          JOIN sop_versions v ON v.sop_id = s.id AND v.version = s.current_version
         WHERE jsonb_array_length(coalesce(v.definition->'policies'->'exitOn', '[]'::jsonb)) > 0;
        RETURN NULL;
      END
      $fn$;
      CREATE TRIGGER domain_events_queue_exit_checks AFTER INSERT ON domain_events FOR EACH ROW
        WHEN (NEW.type IN ('contact.updated', 'contact.tags_changed', 'segment.exited') AND NEW.payload ? 'contactIds')
        EXECUTE FUNCTION queue_sop_exit_checks();

      -- Transitions: "was this tag added (removed) after the enrollment entered" is a look-up by contact, tag and time.
      CREATE INDEX tag_events_contact_tag_idx ON tag_events (contact_id, tag_id, at);
      -- The enrollments entered within the late-commit window, re-checked on each pass.
      CREATE INDEX enrollments_entered_idx ON enrollments (sop_id, entered_at) WHERE status = 'active';
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX tag_events_contact_tag_idx, enrollments_entered_idx;
      DROP TRIGGER domain_events_queue_exit_checks ON domain_events; DROP FUNCTION queue_sop_exit_checks(); DROP TABLE sop_exit_checks`);
  }
}
