import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What contacts do (responses), the tenant's rules that turn them into behaviour tags, the ids of events
 * received from other systems (a replayed id has no second effect) and purchases (an order counts once;
 * `in_30d` marks the ones still counted in contacts.spend_30d, so the sweep that ages them is idempotent).
 */
export class Responses1764633600000 implements MigrationInterface {
  name = 'Responses1764633600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE responses (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id uuid NOT NULL,
        contact_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('replied', 'opened', 'bought', 'joined', 'joined_group', 'left_group', 'unsubscribed', 'outcome', 'custom')),
        source text NOT NULL CHECK (source IN ('outcome', 'link', 'event')),
        outcome text,
        name text,
        amount numeric(14, 2),
        task_id bigint,
        sop_id uuid,
        step_index int,
        material text,
        event_id text,
        data jsonb NOT NULL DEFAULT '{}',
        occurred_at timestamptz(3) NOT NULL DEFAULT now(),
        recorded_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT responses_contact_fk FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id) ON DELETE CASCADE
      );
      CREATE INDEX responses_contact_idx ON responses (contact_id, occurred_at DESC, id DESC);

      CREATE TABLE response_rules (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        -- when: every condition that is set must hold
        kind text NOT NULL,
        outcome text,
        sop_id uuid,
        step_index int,
        material text,
        event_name text,
        min_amount numeric(14, 2),
        -- then
        add_tag_ids uuid[] NOT NULL DEFAULT '{}',
        weight numeric(8, 2),
        remove_tag_ids uuid[] NOT NULL DEFAULT '{}',
        tag_ids uuid[] NOT NULL DEFAULT '{}', -- add and remove together: deleting them is refused while the rule exists
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT response_rules_tenant_name_key UNIQUE (tenant_id, name),
        CONSTRAINT response_rules_sop_fk FOREIGN KEY (tenant_id, sop_id) REFERENCES sops (tenant_id, id)
      );
      CREATE INDEX response_rules_match_idx ON response_rules (tenant_id, kind) WHERE enabled;
      CREATE INDEX response_rules_tag_ids_gin ON response_rules USING gin (tag_ids);

      CREATE TABLE ingested_events (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        event_id text NOT NULL,
        type text NOT NULL,
        api_key_id uuid,
        received_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, event_id)
      );

      CREATE TABLE purchases (
        tenant_id uuid NOT NULL,
        order_id text NOT NULL,
        contact_id uuid NOT NULL,
        amount numeric(14, 2) NOT NULL CHECK (amount >= 0),
        currency text NOT NULL,
        ordered_at timestamptz(3) NOT NULL,
        in_30d boolean NOT NULL,
        PRIMARY KEY (tenant_id, order_id),
        CONSTRAINT purchases_contact_fk FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id) ON DELETE CASCADE
      );
      CREATE INDEX purchases_contact_idx ON purchases (contact_id, ordered_at);
      CREATE INDEX purchases_aging_idx ON purchases (ordered_at) WHERE in_30d;
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE purchases, ingested_events, response_rules, responses`);
  }
}
