import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SOPs, their immutable published versions, enrollments (a contact walking a journey) and tasks
 * (one piece of work for one executor), plus each tenant's corrections to the business calendar.
 * Enrollments and tasks are created by set-based SQL; their unique keys make a repeat a no-op.
 */
export class Sops1764374400000 implements MigrationInterface {
  name = 'Sops1764374400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE sops (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        kind text NOT NULL CHECK (kind IN ('journey', 'recurring', 'broadcast')),
        status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'paused', 'archived')),
        -- the working copy; activation publishes it as an immutable version
        definition jsonb NOT NULL,
        current_version int,
        -- what the working copy refers to, so a referenced tag or segment cannot be deleted
        tag_ids uuid[] NOT NULL DEFAULT '{}',
        segment_ids uuid[] NOT NULL DEFAULT '{}',
        -- segment memberships up to this id have been considered for enrollment; entries before
        -- enroll_from are not looked at again (set when a version with a new audience goes live)
        enroll_cursor bigint NOT NULL DEFAULT 0,
        enroll_from timestamptz(3),
        -- a journey that starts on an event: outbox events up to this time were looked at
        events_seen_at timestamptz(3),
        created_by uuid,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT sops_tenant_name_key UNIQUE (tenant_id, name),
        CONSTRAINT sops_tenant_id_key UNIQUE (tenant_id, id)
      );

      CREATE TABLE sop_versions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        sop_id uuid NOT NULL,
        version int NOT NULL,
        definition jsonb NOT NULL,
        tag_ids uuid[] NOT NULL DEFAULT '{}',
        segment_ids uuid[] NOT NULL DEFAULT '{}',
        published_at timestamptz(3) NOT NULL DEFAULT now(),
        published_by uuid,
        CONSTRAINT sop_versions_sop_version_key UNIQUE (sop_id, version),
        CONSTRAINT sop_versions_sop_fk FOREIGN KEY (tenant_id, sop_id) REFERENCES sops (tenant_id, id) ON DELETE CASCADE
      );

      CREATE TABLE enrollments (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id uuid NOT NULL,
        sop_id uuid NOT NULL,
        -- no foreign key: versions are immutable and go only with their SOP, whose key cascades
        sop_version_id uuid NOT NULL,
        contact_id uuid NOT NULL,
        -- which entry this is: the segment membership (one entry into the segment) that caused it
        entry_no bigint NOT NULL,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'exited')),
        next_step int NOT NULL DEFAULT 0,
        -- when the dispatcher should look at this enrollment next; null once closed
        next_due_at timestamptz(3),
        entered_at timestamptz(3) NOT NULL DEFAULT now(),
        closed_at timestamptz(3),
        close_reason text,
        -- on-finish actions ran (once, even if a yielding task later reopens the enrollment)
        finished_at timestamptz(3),
        CONSTRAINT enrollments_entry_key UNIQUE (sop_id, contact_id, entry_no),
        CONSTRAINT enrollments_sop_fk FOREIGN KEY (tenant_id, sop_id) REFERENCES sops (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT enrollments_contact_fk FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id) ON DELETE CASCADE
      );
      CREATE UNIQUE INDEX enrollments_one_active_key ON enrollments (sop_id, contact_id) WHERE status = 'active';
      -- pages take the earliest due first: (next_due_at, id) in index order, no sort of every due row
      CREATE INDEX enrollments_due_idx ON enrollments (sop_id, next_due_at, id) WHERE status = 'active';
      CREATE INDEX enrollments_contact_idx ON enrollments (contact_id) WHERE status = 'active';

      CREATE TABLE tasks (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id uuid NOT NULL,
        sop_id uuid NOT NULL,
        sop_version_id uuid NOT NULL,
        step_index int NOT NULL,
        -- no foreign key (its check would cost every materialized task): enrollments and tasks are written
        -- together by the engine and removed together with their contact or SOP
        enrollment_id bigint,
        -- recurring occurrence or broadcast send time; null for journey tasks
        occurrence timestamptz(3),
        contact_id uuid,
        group_id uuid,
        -- null when the rule found nobody (e.g. a contact without owner): a manager assigns it
        executor_id uuid,
        channel text NOT NULL,
        content text NOT NULL,
        variant text,
        materials jsonb NOT NULL DEFAULT '[]',
        due_at timestamptz(3) NOT NULL,
        due_until timestamptz(3) NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'skipped', 'expired', 'cancelled')),
        outcome text,
        note text,
        cancel_reason text,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        finished_at timestamptz(3),
        CONSTRAINT tasks_sop_fk FOREIGN KEY (tenant_id, sop_id) REFERENCES sops (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT tasks_contact_fk FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT tasks_group_fk FOREIGN KEY (tenant_id, group_id) REFERENCES customer_groups (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT tasks_executor_fk FOREIGN KEY (tenant_id, executor_id) REFERENCES users (tenant_id, id) ON DELETE SET NULL (executor_id)
      );
      CREATE UNIQUE INDEX tasks_journey_step_key ON tasks (enrollment_id, step_index) WHERE occurrence IS NULL;
      CREATE UNIQUE INDEX tasks_occurrence_key ON tasks (sop_id, occurrence, step_index, coalesce(contact_id, group_id))
        WHERE occurrence IS NOT NULL;
      -- an executor's lists (today, overdue, upcoming, done) read by (executor, status, due time, id)
      CREATE INDEX tasks_executor_idx ON tasks (tenant_id, executor_id, status, due_at, id);
      CREATE INDEX tasks_sop_idx ON tasks (sop_id, status);
      CREATE INDEX tasks_contact_idx ON tasks (contact_id, due_at) WHERE contact_id IS NOT NULL;

      -- a broadcast's audience, taken once when it starts
      CREATE TABLE broadcast_recipients (
        sop_id uuid NOT NULL REFERENCES sops(id) ON DELETE CASCADE,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        PRIMARY KEY (sop_id, contact_id)
      );

      CREATE TABLE calendar_overrides (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        date date NOT NULL,
        working boolean NOT NULL,
        name text NOT NULL DEFAULT '',
        PRIMARY KEY (tenant_id, date)
      );

      -- on-finish actions tag contacts as the SOP
      ALTER TABLE tag_events DROP CONSTRAINT tag_events_actor_type_check,
        ADD CONSTRAINT tag_events_actor_type_check
        CHECK (actor_type IN ('user', 'api_key', 'system', 'rule', 'import', 'source_code', 'response', 'sop'));

      -- the per-contact cap across all SOPs (null: none)
      ALTER TABLE tenants ADD COLUMN contact_cap_per_day int CHECK (contact_cap_per_day > 0),
                          ADD COLUMN contact_cap_per_week int CHECK (contact_cap_per_week > 0);

      -- enrollment reads new entries by id past the cursor, and recent ones by time (late commits): both by index
      CREATE INDEX segment_memberships_segment_idx ON segment_memberships (segment_id, id) WHERE exited_at IS NULL;
      -- journeys that start on an event read the outbox by type and time
      CREATE INDEX domain_events_type_idx ON domain_events (tenant_id, type, created_at);

      CREATE INDEX segment_memberships_entered_idx ON segment_memberships (segment_id, entered_at) WHERE exited_at IS NULL;
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE tenants DROP COLUMN contact_cap_per_day, DROP COLUMN contact_cap_per_week`);
    await db.query(`ALTER TABLE tag_events DROP CONSTRAINT tag_events_actor_type_check, ADD CONSTRAINT tag_events_actor_type_check
      CHECK (actor_type IN ('user', 'api_key', 'system', 'rule', 'import', 'source_code', 'response'))`);
    await db.query(`DROP INDEX domain_events_type_idx, segment_memberships_entered_idx, segment_memberships_segment_idx; DROP TABLE calendar_overrides, broadcast_recipients, tasks, enrollments, sop_versions, sops`);
  }
}
