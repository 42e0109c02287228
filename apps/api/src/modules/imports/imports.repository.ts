import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queryable } from '@sop/engine';
import { from as copyFrom } from 'pg-copy-streams';
import type { Writable } from 'node:stream';
import { DataSource, type QueryRunner } from 'typeorm';
import { discardConnection, pgClient } from '../../common/dedicated-connection';
import type { ContactRecord, RowError } from './contact-row';
import type { ImportDto } from './imports.dto';

/** Contacts per `contact.tags_changed` or `contact.updated` outbox event, as in the membership events. */
const EVENT_CONTACTS = 5000;

/** Staging columns with their types, in the order the service's COPY lines write them; contact columns keep the contact's names. */
export const STAGING: [keyof ContactRecord | 'seq' | 'row_no', string][] = [
  ['seq', 'int'], ['row_no', 'int'], ['external_id', 'text'], ['name', 'text'], ['phone', 'text'], ['email', 'text'], ['owner_id', 'uuid'],
  ['timezone', 'text'], ['attributes', 'jsonb'], ['order_count', 'int'], ['total_spend', 'numeric'], ['spend_30d', 'numeric'],
  ['last_order_at', 'timestamptz'], ['last_contacted_at', 'timestamptz'], ['last_responded_at', 'timestamptz'], ['tag_nums', 'int[]'],
];

/** What a new contact gets for a column its row leaves empty. */
const DEFAULTS: Record<string, string> = {
  name: "''", timezone: "'Asia/Shanghai'", attributes: "'{}'::jsonb", order_count: '0', total_spend: '0', spend_30d: '0',
};

export interface ImportRow {
  id: string; status: ImportDto['status']; processed_rows: number; imported_rows: number; created_rows: number; error_rows: number;
  errors: RowError[]; message: string | null; file_name: string | null; created_by: string | null; created_by_name: string | null;
  created_at: Date; finished_at: Date | null;
}

/** The counts an import's row keeps while it runs. */
export interface ImportCounts {
  processed: number;
  imported: number;
  /** of the imported rows, those that made a new contact */
  created: number;
  errorRows: number;
}

/** A lane's dedicated connection with its TEMP staging table and the COPY open into it. */
export interface StagingConnection {
  qr: QueryRunner;
  copy: Writable;
  /** whether this connection may set session_replication_role (see `holdChunkReferences`) */
  mayTrust: boolean;
}

/** An import with its author's name (the list and the detail read the same columns). */
const SELECT_IMPORTS = `SELECT i.*, u.name AS created_by_name FROM imports i LEFT JOIN users u ON u.tenant_id = i.tenant_id AND u.id = i.created_by`;

/**
 * A CSV import's SQL: its `imports` row, what a row is checked against (the organization's tags and active users),
 * and the staging and merge statements on a lane's dedicated connection (the TEMP tables `import_rows`,
 * `import_repeats` and `import_chunk`, and the set-based writes of `contacts`, `contact_tags`, `tag_events` and the
 * outbox's `domain_events`). The engine's `refreshTagNums`, `applyComputedTags` and `evaluateMembershipsSet` run
 * in the same transactions, called by the service. Every statement is keyed by the caller's organization (the TEMP
 * tables are the connection's own); those of a merge run in the transaction the service opens on the lane's
 * connection, given as `m`.
 */
@Injectable()
export class ImportsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  find(tenantId: string, id: string): Promise<ImportRow | undefined> {
    return this.db.query(`${SELECT_IMPORTS} WHERE i.tenant_id = $1 AND i.id = $2`, [tenantId, id]).then(([r]: ImportRow[]) => r);
  }

  /** The organization's latest imports, newest first. */
  recent(tenantId: string, limit: number): Promise<ImportRow[]> {
    return this.db.query(
      `${SELECT_IMPORTS} WHERE i.tenant_id = $1 ORDER BY i.created_at DESC, i.id DESC LIMIT $2`, [tenantId, limit]);
  }

  /** The tags a row may name, each with its group (a name may be given as "Group:Tag"). */
  tags(tenantId: string): Promise<{ num: number; name: string; group_name: string; exclusive: boolean }[]> {
    return this.db.query(
      `SELECT t.num, t.name, g.name AS group_name, g.exclusive FROM tags t JOIN tag_groups g ON g.id = t.group_id WHERE t.tenant_id = $1`,
      [tenantId],
    );
  }

  /** The users a row's owner_email may name: the active ones. */
  activeOwners(tenantId: string): Promise<{ email: string; id: string }[]> {
    return this.db.query(
      `SELECT email, id FROM users WHERE tenant_id = $1 AND disabled_at IS NULL`, [tenantId]);
  }

  /** The import's row, running, under the chosen id if any; a reused id fails on `imports_pkey`. */
  async insert(tenantId: string, userId: string | null, chosen: string | null, fileName: string | null): Promise<string> {
    const [{ id }] = await this.db.query(
      `INSERT INTO imports (id, tenant_id, status, created_by, file_name) VALUES (COALESCE($3::uuid, gen_random_uuid()), $1, 'running', $2, $4) RETURNING id`,
      [tenantId, userId, chosen, fileName],
    );
    return id;
  }

  async progress(tenantId: string, id: string, c: ImportCounts, errors: RowError[]): Promise<void> {
    await this.db.query(
      `UPDATE imports SET processed_rows = $2, imported_rows = $3, error_rows = $4, errors = $5, created_rows = $6 WHERE id = $1 AND tenant_id = $7`,
      [id, c.processed, c.imported, c.errorRows, JSON.stringify(errors), c.created, tenantId],
    );
  }

  async finish(tenantId: string, id: string, status: 'completed' | 'failed', message: string | null): Promise<void> {
    await this.db.query(`UPDATE imports SET status = $2, message = $3, finished_at = now() WHERE id = $1 AND tenant_id = $4`, [id, status, message, tenantId]);
  }

  /** A dedicated connection with its TEMP staging table and an open COPY into it. */
  async openStaging(): Promise<StagingConnection> {
    const qr = this.db.createQueryRunner();
    await qr.connect();
    await qr.query(`CREATE TEMP TABLE import_rows (${STAGING.map(([c, t]) => `${c} ${t}`).join(', ')})`);
    const mayTrust = await qr.query(`SET session_replication_role = replica; RESET session_replication_role`).then(() => true, () => false);
    const copy = pgClient(qr).query(copyFrom(`COPY import_rows FROM STDIN`));
    return { qr, copy, mayTrust };
  }

  /**
   * After success the staging tables are dropped and the connection goes back to the pool; after a
   * failure the connection is discarded (a COPY may have been cut short), which drops them too.
   */
  async closeStaging({ qr, copy }: StagingConnection, failure: unknown): Promise<void> {
    if (failure) {
      copy.destroy();
      return discardConnection(qr, failure);
    }
    await qr.query(`DROP TABLE IF EXISTS pg_temp.import_rows, pg_temp.import_repeats, pg_temp.import_chunk`).catch(() => undefined);
    await qr.release();
  }

  /**
   * Removes the staged rows whose external id the file repeats later, in one transaction on the lane's connection,
   * and makes the merge's chunk table. Returns how many were removed and the row numbers of the first `limit`.
   */
  async dropRepeats(qr: QueryRunner, limit: number): Promise<{ count: number; rows: number[] }> {
    await qr.startTransaction();
    await qr.query(`SET LOCAL work_mem = '256MB'`);
    await qr.query(`CREATE TEMP TABLE import_repeats AS
      SELECT external_id, max(seq) AS keep FROM import_rows GROUP BY external_id HAVING count(*) > 1`);
    const [{ count }] = await qr.query(`SELECT count(*)::int AS count FROM import_rows r JOIN import_repeats d USING (external_id) WHERE r.seq <> d.keep`);
    const rows: { row: number }[] = count ? await qr.query(
      `SELECT r.row_no AS row FROM import_rows r JOIN import_repeats d USING (external_id)
        WHERE r.seq <> d.keep ORDER BY r.row_no LIMIT ${limit}`) : [];
    if (count) await qr.query(`DELETE FROM import_rows r USING import_repeats d WHERE r.external_id = d.external_id AND r.seq <> d.keep`);
    await qr.query(`CREATE INDEX ON import_rows (seq)`);
    await qr.query(`ANALYZE import_rows`);
    await qr.query(`CREATE TEMP TABLE import_chunk (id uuid NOT NULL, external_id text NOT NULL, inserted boolean NOT NULL, tag_nums int[] NOT NULL,
      exit_fields_changed boolean NOT NULL DEFAULT false)`);
    await qr.commitTransaction();
    return { count, rows: rows.map((r) => r.row) };
  }

  /** A merge transaction's start: its memory, and the chunk table emptied of the previous chunk. */
  async startChunk(m: Queryable): Promise<void> {
    await m.query(`SET LOCAL work_mem = '64MB'`);
    await m.query(`TRUNCATE import_chunk`);
  }

  /**
   * Upserts the staged rows with seq in (lo, hi] into contacts and keeps them in `import_chunk`; returns how many
   * it upserted and how many of them are new. Only the `writes` columns are written: a column the file leaves out
   * keeps what the contact had; attributes merge. An existing contact whose value of an `exitColumns` column
   * changes is marked `exit_fields_changed`, comparing with `earlier`, which reads the rows as they were (every
   * part of one statement sees the same snapshot, not the upsert's own changes); without such columns this costs
   * nothing. A new contact gets its tag_nums in its first and only row version; existing ones after their tags change.
   */
  async upsertChunk(m: Queryable, tenantId: string, lo: number, hi: number, writes: string[], exitColumns: string[]): Promise<{ n: number; created: number }> {
    const value = (c: string) => (DEFAULTS[c] ? `coalesce(s.${c}, ${DEFAULTS[c]})` : `s.${c}`);
    const set = (c: string) => (c === 'attributes' ? 'attributes = c.attributes || EXCLUDED.attributes' : `${c} = EXCLUDED.${c}`);
    const earlier = exitColumns.length ? `earlier AS (
         SELECT c.id${exitColumns.map((column) => `, c.${column}`).join('')}
           FROM import_rows s JOIN contacts c ON c.tenant_id = $1 AND c.external_id = s.external_id WHERE s.seq > $2 AND s.seq <= $3
       ), ` : '';
    const changedExpr = exitColumns.length
      ? `NOT up.inserted AND (${exitColumns.map((column) => `up.${column} IS DISTINCT FROM b.${column}`).join(' OR ')})` : 'false';
    const [{ n, created }] = await m.query(
      `WITH ${earlier}up AS (
         INSERT INTO contacts AS c (tenant_id, external_id, tag_nums${writes.map((c) => `, ${c}`).join('')})
         SELECT $1, s.external_id, coalesce(s.tag_nums, '{}')${writes.map((c) => `, ${value(c)}`).join('')}
           FROM import_rows s WHERE s.seq > $2 AND s.seq <= $3
         ON CONFLICT (tenant_id, external_id) DO UPDATE SET updated_at = now()${writes.map((c) => `, ${set(c)}`).join('')}
         RETURNING c.id, c.external_id, c.xmax = 0 AS inserted, c.tag_nums${exitColumns.map((column) => `, c.${column}`).join('')}
       ), kept AS (
         INSERT INTO import_chunk (id, external_id, inserted, tag_nums, exit_fields_changed)
         SELECT up.id, up.external_id, up.inserted, up.tag_nums, ${changedExpr}
           FROM up${exitColumns.length ? ' LEFT JOIN earlier b ON b.id = up.id' : ''}
         RETURNING inserted
       )
       SELECT count(*)::int AS n, count(*) FILTER (WHERE inserted)::int AS created FROM kept`,
      [tenantId, lo, hi],
    );
    return { n, created };
  }

  /**
   * The chunk's contacts whose exit-relevant `fields` changed, announced as any writer does (`contact.updated`):
   * the outbox trigger queues the exit checks of their enrollments, and the wake relay wakes their journeys.
   */
  async announceExitChanges(m: Queryable, tenantId: string, fields: string[], importId: string): Promise<void> {
    await m.query(
      `INSERT INTO domain_events (tenant_id, type, payload)
         SELECT $1, 'contact.updated', jsonb_build_object('contactIds', jsonb_agg(id), 'fields', $2::jsonb, 'importId', $3::uuid)
           FROM (SELECT id, (row_number() OVER () - 1) / ${EVENT_CONTACTS} AS part FROM import_chunk WHERE exit_fields_changed) x
          GROUP BY part`,
      [tenantId, JSON.stringify(fields), importId],
    );
  }

  async analyzeChunk(m: Queryable): Promise<void> {
    await m.query(`ANALYZE import_chunk`);
  }

  /**
   * The rest of a merge transaction writes rows that refer only to the chunk's contacts, which the upsert
   * has just locked, and to the tenant's tags and segments, which this locks FOR KEY SHARE (the lock a
   * foreign-key check takes), once, instead of once per row. With every parent thus held until commit, the
   * per-row foreign-key triggers of contact_tags, tag_events and segment_memberships can only confirm what
   * the statements' own joins guarantee, so they are skipped (`session_replication_role = replica`, as
   * pg_restore --disable-triggers does for a bulk load); they were half of the merge's time
   * (docs/segments.md). Only when the connection may (a superuser, or GRANT SET ON PARAMETER
   * session_replication_role); otherwise the checks run as usual. Small writes elsewhere keep their
   * foreign keys checked row by row. Returns the locked segments: memberships are evaluated for those
   * only, since a segment created after this lock is not held by it.
   */
  async holdChunkReferences(m: Queryable, tenantId: string): Promise<string[]> {
    await m.query(`SELECT 1 FROM tags WHERE tenant_id = $1 FOR KEY SHARE`, [tenantId]);
    const segments: { id: string }[] = await m.query(`SELECT id FROM segments WHERE tenant_id = $1 FOR KEY SHARE`, [tenantId]);
    await this.rowChecks(m, false);
    return segments.map((r) => r.id);
  }

  /** Turns the per-row foreign-key checks back on (`on`) or off for the rest of the transaction. */
  rowChecks(m: Queryable, on: boolean): Promise<unknown> {
    return m.query(`SET LOCAL session_replication_role = ${on ? 'origin' : 'replica'}`);
  }

  /** New contacts: every listed tag is added (there are no earlier tags to clear), with its tag event. */
  async tagNewContacts(m: Queryable, tenantId: string): Promise<void> {
    await m.query(
      `WITH added AS (
         INSERT INTO contact_tags (tenant_id, contact_id, tag_id, tag_num)
         SELECT $1, k.id, t.id, t.num
           FROM import_chunk k CROSS JOIN LATERAL unnest(k.tag_nums) AS n(num) JOIN tags t ON t.num = n.num AND t.tenant_id = $1
          WHERE k.inserted
         RETURNING contact_id, tag_id
       )
       INSERT INTO tag_events (tenant_id, contact_id, tag_id, action, actor_type, reason)
       SELECT $1, contact_id, tag_id, 'added', 'import', 'CSV import' FROM added`,
      [tenantId],
    );
  }

  /** `contact.tags_changed` for the new contacts that came with tags. */
  async announceNewContactsTags(m: Queryable, tenantId: string): Promise<void> {
    await m.query(
      `INSERT INTO domain_events (tenant_id, type, payload)
       SELECT $1, 'contact.tags_changed', jsonb_build_object('contactIds', jsonb_agg(id))
         FROM (SELECT id, (row_number() OVER () - 1) / ${EVENT_CONTACTS} AS part FROM import_chunk WHERE inserted AND tag_nums <> '{}') x
        GROUP BY part`,
      [tenantId],
    );
  }

  /**
   * Existing contacts of the chunk (staged seq in (lo, hi]) get their rows' tags, with tag events: a new tag in an
   * exclusive group removes the group's other tags. Returns the contacts whose tags changed.
   */
  async tagExistingContacts(m: Queryable, tenantId: string, lo: number, hi: number): Promise<string[]> {
    const [{ changed }] = await m.query(
      `WITH incoming AS (
         SELECT k.id AS contact_id, t.id AS tag_id, t.num, t.group_id, g.exclusive
           FROM import_chunk k JOIN import_rows s ON s.external_id = k.external_id AND s.seq > $2 AND s.seq <= $3
           CROSS JOIN LATERAL unnest(s.tag_nums) AS n(num)
           JOIN tags t ON t.num = n.num AND t.tenant_id = $1 JOIN tag_groups g ON g.id = t.group_id
          WHERE NOT k.inserted
       ), removed AS (
         DELETE FROM contact_tags ct USING incoming i, tags other
          WHERE i.exclusive AND ct.contact_id = i.contact_id AND ct.tag_id = other.id
            AND other.group_id = i.group_id AND ct.tag_id <> i.tag_id
         RETURNING ct.contact_id, ct.tag_id
       ), added AS (
         INSERT INTO contact_tags (tenant_id, contact_id, tag_id, tag_num)
         SELECT $1, contact_id, tag_id, num FROM incoming ON CONFLICT DO NOTHING
         RETURNING contact_id, tag_id
       ), events AS (
         INSERT INTO tag_events (tenant_id, contact_id, tag_id, action, actor_type, reason)
         SELECT $1, contact_id, tag_id, 'removed', 'import', 'CSV import' FROM removed
         UNION ALL SELECT $1, contact_id, tag_id, 'added', 'import', 'CSV import' FROM added
         RETURNING contact_id
       )
       SELECT coalesce(array_agg(DISTINCT contact_id), '{}') AS changed FROM events`,
      [tenantId, lo, hi],
    );
    return changed;
  }

  /** The chunk's contacts. */
  async chunkContactIds(m: Queryable): Promise<string[]> {
    return (await m.query(`SELECT coalesce(array_agg(id), '{}') AS ids FROM import_chunk`))[0].ids;
  }
}
