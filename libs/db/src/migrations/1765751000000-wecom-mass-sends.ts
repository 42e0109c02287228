import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 16 item 5: tasks handed to WeCom for the executor to confirm. One row per WeCom template
 * (`add_msg_template`, 1:1 or group) or Moments task (`add_moment_task`), written with its tasks linked BEFORE the
 * call (status `creating`), so a retried activity finds its intent and never creates a second template; then the
 * msgid (or the Moments jobid and moment_id) and the polling state. Each task keeps the template it went out in
 * and what WeCom says about it (`wecom_send_state`): handed, sent, not a friend, the customer's monthly limit…
 */
export class WecomMassSends1765751000000 implements MigrationInterface {
  name = 'WecomMassSends1765751000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE wecom_mass_sends (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('single', 'group', 'moment')),
        sop_id uuid NOT NULL,
        sop_version_id uuid NOT NULL,
        step_index int NOT NULL,
        executor_id uuid NOT NULL,
        -- the executor's WeCom UserID (the template's sender)
        sender text NOT NULL,
        content text NOT NULL,
        status text NOT NULL DEFAULT 'creating'
          CHECK (status IN ('creating', 'waiting', 'finished', 'expired', 'cancelled', 'failed')),
        msgid text,
        jobid text,
        moment_id text,
        error text,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        finished_at timestamptz(3),
        -- polling stops here: what is still unsent then is left to the executor by hand
        expires_at timestamptz(3) NOT NULL,
        next_poll_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT wecom_mass_sends_sop_fk FOREIGN KEY (tenant_id, sop_id) REFERENCES sops (tenant_id, id) ON DELETE CASCADE
      );
      CREATE INDEX wecom_mass_sends_open_idx ON wecom_mass_sends (next_poll_at) WHERE status IN ('creating', 'waiting');
      CREATE UNIQUE INDEX wecom_mass_sends_msgid_key ON wecom_mass_sends (tenant_id, msgid) WHERE msgid IS NOT NULL;

      ALTER TABLE tasks ADD COLUMN wecom_mass_send_id bigint,
        ADD COLUMN wecom_send_state text CHECK (wecom_send_state IN ('handed', 'sent', 'not_friend', 'monthly_limit', 'no_wecom_id', 'failed', 'unsent')),
        ADD COLUMN wecom_handed_at timestamptz(3);
      -- what the handover looks for: pending tasks of the channels WeCom can take, not yet handed over
      CREATE INDEX tasks_wecom_handover_idx ON tasks (tenant_id, due_at)
        WHERE status = 'pending' AND wecom_send_state IS NULL AND channel IN ('wecom_chat', 'group_chat', 'moments');
      CREATE INDEX tasks_wecom_mass_send_idx ON tasks (wecom_mass_send_id) WHERE wecom_mass_send_id IS NOT NULL;
      -- the month's 1:1 mass-sends per contact (WeCom's limit of 4)
      CREATE INDEX tasks_wecom_handed_idx ON tasks (contact_id, wecom_handed_at) WHERE wecom_handed_at IS NOT NULL;
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      DROP INDEX tasks_wecom_handed_idx; DROP INDEX tasks_wecom_mass_send_idx; DROP INDEX tasks_wecom_handover_idx;
      ALTER TABLE tasks DROP COLUMN wecom_mass_send_id, DROP COLUMN wecom_send_state, DROP COLUMN wecom_handed_at;
      DROP TABLE wecom_mass_sends;
    `);
  }
}
