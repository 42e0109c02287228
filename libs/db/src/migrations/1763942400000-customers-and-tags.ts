import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Contacts, customer groups, tag groups and tags, tag events, segments and memberships, and the
 * outbox of domain events. Design notes (see docs/segments.md):
 * - tags carry a compact integer `num`; contacts.tag_nums int[] (GIN) is the searchable copy of
 *   contact_tags, so "has tags A and B" is one index lookup. contact_tags stays the source of truth
 *   (weights, who applied a tag and when); both change in the same statement.
 * - attributes are jsonb with a jsonb_path_ops GIN index for equality tests.
 */
export class CustomersAndTags1763942400000 implements MigrationInterface {
  name = 'CustomersAndTags1763942400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE tag_groups (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        exclusive boolean NOT NULL DEFAULT false,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT tag_groups_tenant_name_key UNIQUE (tenant_id, name),
        CONSTRAINT tag_groups_tenant_id_key UNIQUE (tenant_id, id)
      );
      CREATE TABLE tags (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        num integer GENERATED ALWAYS AS IDENTITY UNIQUE,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        group_id uuid NOT NULL,
        name text NOT NULL,
        color text NOT NULL DEFAULT '#64748b',
        kind text NOT NULL CHECK (kind IN ('manual', 'source', 'behaviour', 'computed')),
        weight numeric(8, 2),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT tags_group_name_key UNIQUE (tenant_id, group_id, name),
        CONSTRAINT tags_tenant_id_key UNIQUE (tenant_id, id),
        CONSTRAINT tags_group_fk FOREIGN KEY (tenant_id, group_id) REFERENCES tag_groups (tenant_id, id)
      );
      CREATE TABLE contacts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        external_id text NOT NULL,
        name text NOT NULL DEFAULT '',
        phone text,
        email text,
        owner_id uuid,
        timezone text NOT NULL DEFAULT 'Asia/Shanghai',
        attributes jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
        order_count integer NOT NULL DEFAULT 0 CHECK (order_count >= 0),
        total_spend numeric(14, 2) NOT NULL DEFAULT 0,
        spend_30d numeric(14, 2) NOT NULL DEFAULT 0,
        last_order_at timestamptz,
        last_contacted_at timestamptz,
        last_responded_at timestamptz,
        tag_nums integer[] NOT NULL DEFAULT '{}',
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT contacts_tenant_external_key UNIQUE (tenant_id, external_id),
        CONSTRAINT contacts_tenant_id_key UNIQUE (tenant_id, id),
        CONSTRAINT contacts_owner_fk FOREIGN KEY (tenant_id, owner_id)
          REFERENCES users (tenant_id, id) ON DELETE SET NULL (owner_id)
      );
      CREATE INDEX contacts_tag_nums_gin ON contacts USING gin (tag_nums);
      CREATE INDEX contacts_attributes_gin ON contacts USING gin (attributes jsonb_path_ops);
      CREATE INDEX contacts_tenant_created_idx ON contacts (tenant_id, created_at, id);
      CREATE INDEX contacts_tenant_owner_idx ON contacts (tenant_id, owner_id);
      CREATE INDEX contacts_last_contacted_idx ON contacts (tenant_id, last_contacted_at);
      CREATE INDEX contacts_last_responded_idx ON contacts (tenant_id, last_responded_at);
      CREATE INDEX contacts_last_order_idx ON contacts (tenant_id, last_order_at);

      CREATE TABLE contact_tags (
        tenant_id uuid NOT NULL,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        tag_id uuid NOT NULL REFERENCES tags(id),
        tag_num integer NOT NULL,
        weight numeric(8, 2),
        applied_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (contact_id, tag_id)
      );
      CREATE INDEX contact_tags_tag_idx ON contact_tags (tag_id);

      CREATE TABLE tag_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id uuid NOT NULL,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        tag_id uuid NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
        action text NOT NULL CHECK (action IN ('added', 'removed')),
        actor_type text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system', 'rule', 'import', 'source_code', 'response')),
        actor_id text,
        reason text,
        at timestamptz(3) NOT NULL DEFAULT now()
      );
      CREATE INDEX tag_events_contact_idx ON tag_events (contact_id, at);

      CREATE TABLE customer_groups (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        owner_id uuid,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT customer_groups_tenant_id_key UNIQUE (tenant_id, id),
        CONSTRAINT customer_groups_owner_fk FOREIGN KEY (tenant_id, owner_id)
          REFERENCES users (tenant_id, id) ON DELETE SET NULL (owner_id)
      );
      CREATE INDEX customer_groups_tenant_idx ON customer_groups (tenant_id, created_at, id);
      CREATE TABLE group_members (
        tenant_id uuid NOT NULL,
        group_id uuid NOT NULL REFERENCES customer_groups(id) ON DELETE CASCADE,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        joined_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (group_id, contact_id)
      );
      CREATE INDEX group_members_contact_idx ON group_members (contact_id);

      CREATE TABLE segments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        rule jsonb NOT NULL,
        tag_ids uuid[] NOT NULL DEFAULT '{}',
        time_fields text[] NOT NULL DEFAULT '{}',
        created_by uuid,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT segments_tenant_name_key UNIQUE (tenant_id, name)
      );
      CREATE INDEX segments_tag_ids_gin ON segments USING gin (tag_ids);

      -- One open membership per segment and contact; exits close it, re-entry opens a new row.
      CREATE TABLE segment_memberships (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id uuid NOT NULL,
        segment_id uuid NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        entered_at timestamptz(3) NOT NULL DEFAULT now(),
        exited_at timestamptz(3)
      );
      CREATE UNIQUE INDEX segment_memberships_open_key ON segment_memberships (segment_id, contact_id) WHERE exited_at IS NULL;
      CREATE INDEX segment_memberships_contact_idx ON segment_memberships (contact_id) WHERE exited_at IS NULL;

      -- Outbox: written in the same transaction as the change it announces.
      CREATE TABLE domain_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id uuid NOT NULL,
        type text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      );
      CREATE INDEX domain_events_tenant_idx ON domain_events (tenant_id, id);
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE domain_events, segment_memberships, segments, group_members, customer_groups,
      tag_events, contact_tags, contacts, tags, tag_groups CASCADE`);
  }
}
