import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 16, our tags to WeCom (items 3 and 4):
 * - `wecom_tag_pushes`: contacts whose WeCom-linked tags changed in our product and must be marked in WeCom
 *   (`mark_tag`). Filled by a statement-level trigger on `tag_events`, so every path that writes tags (API,
 *   rules, SOP on-finish, imports, source codes) queues in the same transaction as its change. Changes that came
 *   from WeCom (tag events by actor `system` / `wecom`) queue nothing: they are WeCom's state already. One row per
 *   contact: the push compares our state with WeCom's when it runs, so many changes cost one push; `version`
 *   moves on every change, so a push never drops a row changed after it read it.
 * - `wecom_corp_tag_ops`: tag definitions to create, rename or delete in WeCom (`add_corp_tag`, `edit_corp_tag`,
 *   `del_corp_tag`), for tags in tag groups linked to a corp tag group, queued by triggers on `tags` and
 *   `tag_groups`, and groups an admin asked to push. Writes that apply WeCom's own changes set
 *   `sop.wecom_origin` for their transaction and queue nothing (no echo).
 * - `source_codes.wecom_*`: the code's WeCom "contact me" configuration (config_id, QR code URL, the WeCom members
 *   it adds and the users they were chosen as).
 */
export class WecomTagPush1765752000000 implements MigrationInterface {
  name = 'WecomTagPush1765752000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE wecom_tag_pushes (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        version bigint NOT NULL DEFAULT 1,
        queued_at timestamptz(3) NOT NULL DEFAULT now(),
        -- WeCom refused the push (e.g. 84061, 40068): kept with its error, not retried until the contact's tags change again
        error text,
        failed_at timestamptz(3),
        PRIMARY KEY (tenant_id, contact_id)
      );
      CREATE INDEX wecom_tag_pushes_due_idx ON wecom_tag_pushes (tenant_id, queued_at) WHERE error IS NULL;
      CREATE INDEX wecom_tag_pushes_failed_idx ON wecom_tag_pushes (tenant_id, failed_at DESC) WHERE error IS NOT NULL;

      CREATE FUNCTION wecom_queue_tag_pushes() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO wecom_tag_pushes (tenant_id, contact_id)
        SELECT DISTINCT n.tenant_id, n.contact_id
          FROM new_events n
          JOIN tags t ON t.id = n.tag_id AND t.wecom_tag_id IS NOT NULL
          JOIN contacts c ON c.id = n.contact_id AND c.wecom_external_user_id IS NOT NULL
         WHERE NOT (n.actor_type = 'system' AND n.actor_id IS NOT DISTINCT FROM 'wecom')
         ORDER BY 1, 2
        ON CONFLICT (tenant_id, contact_id) DO UPDATE
          SET version = wecom_tag_pushes.version + 1, queued_at = now(), error = NULL, failed_at = NULL;
        RETURN NULL;
      END $$;
      CREATE TRIGGER tag_events_wecom_push AFTER INSERT ON tag_events
        REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION wecom_queue_tag_pushes();

      CREATE TABLE wecom_corp_tag_ops (
        id bigserial PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('create_tag', 'rename_tag', 'delete_tag', 'create_group', 'rename_group', 'delete_group')),
        tag_id uuid,
        group_id uuid,
        -- the corp tag or group id, for deletions (our row is gone by then)
        wecom_id text,
        queued_at timestamptz(3) NOT NULL DEFAULT now(),
        done_at timestamptz(3),
        outcome text,
        error text
      );
      CREATE INDEX wecom_corp_tag_ops_open_idx ON wecom_corp_tag_ops (tenant_id, id) WHERE done_at IS NULL;
      CREATE INDEX wecom_corp_tag_ops_failed_idx ON wecom_corp_tag_ops (tenant_id, done_at DESC) WHERE error IS NOT NULL;

      CREATE FUNCTION wecom_queue_corp_tag_ops() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF current_setting('sop.wecom_origin', true) = 'on' THEN RETURN NULL; END IF;
        -- a tenant being deleted takes its tags along: nothing to tell WeCom (and its rows cannot be referenced)
        IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM tenants WHERE id = OLD.tenant_id) THEN RETURN NULL; END IF;
        IF TG_TABLE_NAME = 'tags' THEN
          IF TG_OP = 'INSERT' AND NEW.wecom_tag_id IS NULL
             AND EXISTS (SELECT 1 FROM tag_groups g WHERE g.id = NEW.group_id AND g.wecom_group_id IS NOT NULL) THEN
            INSERT INTO wecom_corp_tag_ops (tenant_id, kind, tag_id, group_id) VALUES (NEW.tenant_id, 'create_tag', NEW.id, NEW.group_id);
          ELSIF TG_OP = 'UPDATE' AND OLD.wecom_tag_id IS NOT NULL AND NEW.wecom_tag_id IS NOT DISTINCT FROM OLD.wecom_tag_id
             AND NEW.name IS DISTINCT FROM OLD.name THEN
            INSERT INTO wecom_corp_tag_ops (tenant_id, kind, tag_id, group_id, wecom_id) VALUES (NEW.tenant_id, 'rename_tag', NEW.id, NEW.group_id, NEW.wecom_tag_id);
          ELSIF TG_OP = 'DELETE' AND OLD.wecom_tag_id IS NOT NULL THEN
            INSERT INTO wecom_corp_tag_ops (tenant_id, kind, tag_id, group_id, wecom_id) VALUES (OLD.tenant_id, 'delete_tag', OLD.id, OLD.group_id, OLD.wecom_tag_id);
          END IF;
        ELSE
          IF TG_OP = 'UPDATE' AND OLD.wecom_group_id IS NOT NULL AND NEW.wecom_group_id IS NOT DISTINCT FROM OLD.wecom_group_id
             AND NEW.name IS DISTINCT FROM OLD.name THEN
            INSERT INTO wecom_corp_tag_ops (tenant_id, kind, group_id, wecom_id) VALUES (NEW.tenant_id, 'rename_group', NEW.id, NEW.wecom_group_id);
          ELSIF TG_OP = 'DELETE' AND OLD.wecom_group_id IS NOT NULL THEN
            INSERT INTO wecom_corp_tag_ops (tenant_id, kind, group_id, wecom_id) VALUES (OLD.tenant_id, 'delete_group', OLD.id, OLD.wecom_group_id);
          END IF;
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER tags_wecom_ops AFTER INSERT OR UPDATE OF name OR DELETE ON tags
        FOR EACH ROW EXECUTE FUNCTION wecom_queue_corp_tag_ops();
      CREATE TRIGGER tag_groups_wecom_ops AFTER UPDATE OF name OR DELETE ON tag_groups
        FOR EACH ROW EXECUTE FUNCTION wecom_queue_corp_tag_ops();

      ALTER TABLE source_codes
        ADD COLUMN wecom_config_id text,
        ADD COLUMN wecom_qr_code text,
        ADD COLUMN wecom_user_ids text[],
        ADD COLUMN wecom_way_user_ids uuid[];
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE source_codes DROP COLUMN wecom_config_id, DROP COLUMN wecom_qr_code, DROP COLUMN wecom_user_ids, DROP COLUMN wecom_way_user_ids;
      DROP TRIGGER tag_groups_wecom_ops ON tag_groups;
      DROP TRIGGER tags_wecom_ops ON tags;
      DROP FUNCTION wecom_queue_corp_tag_ops();
      DROP TABLE wecom_corp_tag_ops;
      DROP TRIGGER tag_events_wecom_push ON tag_events;
      DROP FUNCTION wecom_queue_tag_pushes();
      DROP TABLE wecom_tag_pushes;
    `);
  }
}
