import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 15. Stream tickets are single-use: the id of each ticket used is kept until the ticket would have
 * expired anyway. Tracked links remember when the executor last copied them, so the link previews a chat app
 * fetches as the link is pasted are not counted as the customer's opens. Materials link over https unless
 * the tenant's admin allows plain http. Ids a client may choose (round trips, imports, leaves, handovers) are
 * unique per tenant, keyed (tenant_id, id): another tenant's use of an id no longer answers 409, which told
 * that the id exists somewhere.
 */
export class AbuseLimits1765152000000 implements MigrationInterface {
  name = 'AbuseLimits1765152000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE stream_ticket_uses (
        jti uuid PRIMARY KEY,
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX stream_ticket_uses_expires_idx ON stream_ticket_uses (expires_at);
      CREATE TABLE link_copies (
        task_id bigint NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
        material_index int NOT NULL,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        copied_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (task_id, material_index)
      );
      ALTER TABLE tenants ADD COLUMN allow_http_materials boolean NOT NULL DEFAULT false;

      ALTER TABLE round_trips DROP CONSTRAINT round_trips_pkey, ADD PRIMARY KEY (tenant_id, id);
      ALTER TABLE imports DROP CONSTRAINT imports_pkey, ADD PRIMARY KEY (tenant_id, id);
      ALTER TABLE handovers DROP CONSTRAINT handovers_leave_id_fkey, DROP CONSTRAINT handovers_leave_key,
        DROP CONSTRAINT handovers_pkey, ADD PRIMARY KEY (tenant_id, id);
      ALTER TABLE leaves DROP CONSTRAINT leaves_pkey, DROP CONSTRAINT leaves_tenant_id_key, ADD PRIMARY KEY (tenant_id, id);
      ALTER TABLE handovers ADD CONSTRAINT handovers_leave_key UNIQUE (tenant_id, leave_id),
        ADD CONSTRAINT handovers_leave_fk FOREIGN KEY (tenant_id, leave_id) REFERENCES leaves (tenant_id, id) ON DELETE SET NULL (leave_id);
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE handovers DROP CONSTRAINT handovers_leave_fk, DROP CONSTRAINT handovers_leave_key;
      ALTER TABLE leaves DROP CONSTRAINT leaves_pkey, ADD PRIMARY KEY (id), ADD CONSTRAINT leaves_tenant_id_key UNIQUE (tenant_id, id);
      ALTER TABLE handovers DROP CONSTRAINT handovers_pkey, ADD PRIMARY KEY (id), ADD CONSTRAINT handovers_leave_key UNIQUE (leave_id),
        ADD CONSTRAINT handovers_leave_id_fkey FOREIGN KEY (leave_id) REFERENCES leaves (id) ON DELETE SET NULL;
      ALTER TABLE imports DROP CONSTRAINT imports_pkey, ADD PRIMARY KEY (id);
      ALTER TABLE round_trips DROP CONSTRAINT round_trips_pkey, ADD PRIMARY KEY (id);
      ALTER TABLE tenants DROP COLUMN allow_http_materials;
      DROP TABLE link_copies, stream_ticket_uses;
    `);
  }
}
