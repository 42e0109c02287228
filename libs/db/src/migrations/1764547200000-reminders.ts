import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reminders: each user's notification preferences and webhook robots, the in-app notifications (one per
 * user and dedupe key, so planning twice creates nothing twice), one delivery per notification and external
 * target (unique, so a repeat plans no second send), and each tenant's last reminder sweep.
 */
export class Reminders1764547200000 implements MigrationInterface {
  name = 'Reminders1764547200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE notification_preferences (
        user_id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        locale text NOT NULL CHECK (locale IN ('zh', 'en')),
        timezone text NOT NULL,
        -- external channel kinds chosen (in_app is always on and not stored): email, wecom, dingtalk, feishu, webhook
        channels text[] NOT NULL,
        digest_time time NOT NULL,
        quiet_start time,
        quiet_end time,
        due_soon_minutes int NOT NULL CHECK (due_soon_minutes BETWEEN 1 AND 1440),
        kinds_off text[] NOT NULL DEFAULT '{}',
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT notification_preferences_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT notification_preferences_quiet_check CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
      );

      -- every user's effective settings: the defaults live here, once, for the planner and the API alike
      CREATE VIEW user_notification_settings AS
        SELECT u.id AS user_id, u.tenant_id, u.email, u.name, u.team_id, u.disabled_at,
               coalesce(p.locale, 'zh') AS locale,
               coalesce(p.timezone, 'Asia/Shanghai') AS timezone,
               coalesce(p.channels, ARRAY['email']) AS channels,
               coalesce(p.digest_time, time '08:30') AS digest_time,
               p.quiet_start, p.quiet_end,
               coalesce(p.due_soon_minutes, 30) AS due_soon_minutes,
               coalesce(p.kinds_off, '{}') AS kinds_off,
               p.updated_at
          FROM users u LEFT JOIN notification_preferences p ON p.user_id = u.id;

      -- a user's group robots and signed webhooks; the secret signs requests and is never shown in full
      CREATE TABLE notification_targets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        user_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('wecom', 'dingtalk', 'feishu', 'webhook')),
        name text NOT NULL DEFAULT '',
        url text NOT NULL,
        secret text,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT notification_targets_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT notification_targets_webhook_secret_check CHECK (kind <> 'webhook' OR secret IS NOT NULL)
      );
      CREATE INDEX notification_targets_user_idx ON notification_targets (user_id, created_at, id);

      CREATE TABLE notifications (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id uuid NOT NULL,
        user_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('digest', 'due_soon', 'escalation', 'material_opened')),
        -- what this reminder is about, e.g. due_soon:<task>, digest:<local date>: one per user
        dedupe_key text NOT NULL,
        -- rendered in the user's locale when created
        title text NOT NULL,
        body text NOT NULL,
        link text,
        -- no foreign key (its check would cost every planned row, and tasks may be deleted by caps)
        task_id bigint,
        -- from an SOP step with reminder.mandatory: preferences could not switch it off, quiet hours do not hold it
        mandatory boolean NOT NULL DEFAULT false,
        data jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        read_at timestamptz(3),
        CONSTRAINT notifications_user_dedupe_key UNIQUE (user_id, dedupe_key),
        CONSTRAINT notifications_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
      );
      -- a user's list, newest first, and the unread part of it
      CREATE INDEX notifications_user_idx ON notifications (user_id, created_at, id);
      CREATE INDEX notifications_unread_idx ON notifications (user_id, created_at, id) WHERE read_at IS NULL;

      -- one row per notification and external target. next_attempt_at is when it may be (re)claimed: a claim
      -- moves it to the end of the lease, so a crashed worker's claim comes back by itself
      CREATE TABLE notification_deliveries (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id uuid NOT NULL,
        notification_id bigint NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
        channel text NOT NULL CHECK (channel IN ('email', 'wecom', 'dingtalk', 'feishu', 'webhook')),
        target_id uuid REFERENCES notification_targets(id) ON DELETE CASCADE,
        -- 'email' or the target's id
        target_key text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz(3) NOT NULL,
        last_error text,
        sent_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT notification_deliveries_target_key UNIQUE (notification_id, target_key)
      );
      CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (next_attempt_at) WHERE status IN ('pending', 'sending');
      CREATE INDEX notification_deliveries_target_idx ON notification_deliveries (target_id) WHERE target_id IS NOT NULL;

      -- each tenant's last successful reminder sweep: the next plans from here, so a sweep that was down catches up
      CREATE TABLE reminder_sweeps (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        swept_at timestamptz(3) NOT NULL
      );

      -- the planner finds due-soon and overdue tasks by the end of their window
      CREATE INDEX tasks_pending_due_until_idx ON tasks (due_until) WHERE status = 'pending';

      -- when a delivery at "at" may go out, given quiet hours [qs, qe) in zone tz (a span may cross midnight)
      CREATE FUNCTION notify_release_at(at timestamptz, tz text, qs time, qe time) RETURNS timestamptz
        LANGUAGE sql STABLE AS $$
          SELECT CASE
            WHEN qs IS NULL OR qe IS NULL OR qs = qe THEN at
            WHEN qs < qe AND l::time >= qs AND l::time < qe THEN (l::date + qe) AT TIME ZONE tz
            WHEN qs > qe AND l::time >= qs THEN (l::date + 1 + qe) AT TIME ZONE tz
            WHEN qs > qe AND l::time < qe THEN (l::date + qe) AT TIME ZONE tz
            ELSE at END
          FROM (SELECT at AT TIME ZONE tz AS l) local
        $$;

      -- live updates: one NOTIFY per user and statement (10,000 planned rows make one per user, not a flood of
      -- duplicates); the API's single listener pushes the user's new rows to their open streams
      CREATE FUNCTION notifications_announce() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_notify('notifications', u.user_id::text) FROM (SELECT DISTINCT user_id FROM new_rows) u;
          RETURN NULL;
        END $$;
      CREATE TRIGGER notifications_announce AFTER INSERT ON notifications
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notifications_announce();
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      DROP TRIGGER notifications_announce ON notifications;
      DROP FUNCTION notifications_announce(), notify_release_at(timestamptz, text, time, time);
      DROP INDEX tasks_pending_due_until_idx;
      DROP TABLE reminder_sweeps, notification_deliveries, notifications, notification_targets;
      DROP VIEW user_notification_settings;
      DROP TABLE notification_preferences;
    `);
  }
}
