import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { loadTagNums, populateSegment, type Queryable } from '@sop/engine';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { to as copyTo } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { discardConnection, pgClient } from '../../common/dedicated-connection';
import { isQueryCanceled } from '../../common/postgres-errors';

export interface SegmentRow { id: string; name: string; description: string; rule: unknown; created_at: Date; updated_at: Date }
export interface MemberRow { id: string; external_id: string; name: string; owner_id: string | null }
/** What a segment's row keeps besides its name: the rule and what the engine indexes of it. */
export interface SegmentFields { description: string; rule: unknown; tagIds: string[]; timeFields: string[] }

/** A compiled rule: `where` is a boolean SQL expression over `contacts c`; $1 is always the tenant id. */
export interface CompiledRule {
  where: string;
  params: unknown[];
}

/** An exact count and the first members by id. */
export interface ExactCount { count: number; first: MemberRow[] }

/**
 * What a sample of `contacts` (TABLESAMPLE SYSTEM: each page taken with probability `fraction`) says about a rule:
 * the caller's contacts read (`sampled`), those the rule holds for (`hits`), the sum over the sampled pages of the
 * square of each page's hits (`hitsSquared`, for the variance), and a few of the members found (`first`).
 */
export interface SampleCount { fraction: number; sampled: number; hits: number; hitsSquared: number; first: MemberRow[] }

/** Reads of a segment's members that run under one statement timeout (`SegmentsRepository.underTimeout`). */
export interface TimedReads {
  /**
   * The members' exact count and the first `limit` of them by id, in one statement. With `budgetMs`, the count
   * stops after that long and answers undefined (the transaction goes on, under its own timeout).
   */
  exactCount(compiled: CompiledRule, limit: number, budgetMs?: number): Promise<ExactCount | undefined>;
  /** The rule over a sample of about `rows` contacts of the whole table (every organization's), in one statement. */
  sampleCount(compiled: CompiledRule, rows: number, limit: number): Promise<SampleCount>;
  page(compiled: CompiledRule, limit: number, after?: string): Promise<MemberRow[]>;
}

/**
 * TABLESAMPLE's seed: the same pages for every preview while the table keeps its size, so an estimate does not
 * move while a rule is edited without changing what it selects.
 */
const SAMPLE_SEED = 14;

const EXPORT_COLUMNS = ['id', 'external_id', 'name', 'phone', 'email', 'owner_id'];
/** Excel reads a CSV without it as the local code page, which garbles Chinese names. */
const UTF8_BOM = '\ufeff';

/**
 * A cell a spreadsheet would run as a formula (=, +, -, @, tab or CR first) gets a leading ': customer
 * names come from outside. Numbers such as +86 138 0000 0000 or -5 are left as they are.
 */
const spreadsheetSafe = (col: string) =>
  `CASE WHEN ${col}::text ~ '^[-=+@\t\r]' AND ${col}::text !~ '^[-+]?[0-9][0-9 ().-]*$' THEN '''' || ${col} ELSE ${col}::text END AS ${col}`;

const MEMBER_COLUMNS = 'c.id, c.external_id, c.name, c.owner_id';

/**
 * Segments (`segments`) and their members as a rule selects them from `contacts`: the API's one home for that SQL
 * (the engine keeps `segment_memberships`, through `populateSegment`). Every statement is keyed by the caller's
 * organization; a compiled rule's $1 is its id.
 */
@Injectable()
export class SegmentsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The organization's tags by their number in compiled rules (the engine's reader). */
  tagNums(tenantId: string): ReturnType<typeof loadTagNums> {
    return loadTagNums(this.db, tenantId);
  }

  /** Postgres's planned total cost of counting the rule's members (EXPLAIN's units). */
  async plannedCost(compiled: CompiledRule): Promise<number> {
    const [row] = await this.db.query(`EXPLAIN (FORMAT JSON) SELECT count(*) FROM contacts c WHERE c.tenant_id = $1 AND (${compiled.where})`, compiled.params);
    const plan = row['QUERY PLAN'];
    return Number((typeof plan === 'string' ? JSON.parse(plan) : plan)[0].Plan['Total Cost']);
  }

  /** Runs `read` in one transaction whose statements each stop after `timeoutMs` (the error is Postgres's query_canceled). */
  async underTimeout<T>(timeoutMs: number, read: (reads: TimedReads) => Promise<T>): Promise<T> {
    const qr = this.db.createQueryRunner();
    await qr.connect();
    try {
      await qr.startTransaction();
      await qr.query(`SELECT set_config('statement_timeout', $1, true)`, [`${timeoutMs}ms`]);
      const result = await read(this.reads(qr, timeoutMs));
      await qr.commitTransaction();
      return result;
    } catch (err) {
      if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await qr.release();
    }
  }

  private reads(q: Queryable, timeoutMs: number): TimedReads {
    return {
      exactCount: async (c, limit, budgetMs) => {
        if (budgetMs === undefined) return exactCount(q, c, limit);
        // a savepoint, so that a count stopped by its budget leaves the transaction usable for the estimate
        await q.query(`SAVEPOINT exact_count; SELECT set_config('statement_timeout', '${Math.round(budgetMs)}ms', true)`);
        try {
          const exact = await exactCount(q, c, limit);
          await q.query(`RELEASE SAVEPOINT exact_count; SELECT set_config('statement_timeout', '${Math.round(timeoutMs)}ms', true)`);
          return exact;
        } catch (err) {
          if (!isQueryCanceled(err)) throw err;
          await q.query('ROLLBACK TO SAVEPOINT exact_count'); // and with it the budget's statement_timeout
          return undefined;
        }
      },
      sampleCount: (c, rows, limit) => sampleCount(q, c, rows, limit),
      page: (c, limit, after) => memberPage(q, c, limit, after),
    };
  }

  /** A page of members by contact id (keyset), outside any timeout: for bulk actions that walk a whole segment. */
  page(compiled: CompiledRule, limit: number, after?: string): Promise<MemberRow[]> {
    return memberPage(this.db, compiled, limit, after);
  }

  /** Whether the contact is a member; undefined when the organization has no such contact. */
  async isMember(compiled: CompiledRule, contactId: string): Promise<boolean | undefined> {
    const n = compiled.params.length + 1;
    const [row] = await this.db.query(`SELECT (${compiled.where}) AS member FROM contacts c WHERE c.tenant_id = $1 AND c.id = $${n}`, [...compiled.params, contactId]);
    return row?.member;
  }

  /**
   * Streams every member as CSV, from one snapshot. The rule runs once with its bound parameters into a TEMP table;
   * then Postgres writes the CSV itself (COPY takes no parameters, so it only reads that table) and Node relays bytes
   * with backpressure: memory stays flat and no row becomes a JS object.
   */
  async exportCsv(compiled: CompiledRule, out: Writable): Promise<void> {
    const qr = this.db.createQueryRunner();
    await qr.connect();
    // A client that leaves ends the session at once, whatever it is doing (the members' snapshot or the COPY), and
    // Postgres, checking the socket every second, stops a long snapshot too instead of finishing it for nobody.
    const left = () => { if (!out.writableFinished) void discardConnection(qr, new Error('the client left the export')); };
    out.once('close', left);
    try {
      await qr.startTransaction('REPEATABLE READ');
      await qr.query(`SET LOCAL client_connection_check_interval = 1000;
        CREATE TEMP TABLE export_members ON COMMIT DROP AS SELECT ${EXPORT_COLUMNS.join(', ')} FROM contacts WITH NO DATA`);
      await qr.query(
        `INSERT INTO export_members SELECT ${EXPORT_COLUMNS.map((col) => `c.${col}`).join(', ')}
           FROM contacts c WHERE c.tenant_id = $1 AND (${compiled.where}) ORDER BY c.id`,
        compiled.params,
      );
      out.write(UTF8_BOM);
      const csv = pgClient(qr).query(
        copyTo(`COPY (SELECT ${EXPORT_COLUMNS.map(spreadsheetSafe).join(', ')} FROM export_members) TO STDOUT WITH (FORMAT csv, HEADER)`),
      );
      await pipeline(csv, out);
      await qr.commitTransaction();
      await qr.release();
    } catch (err) {
      await discardConnection(qr, err);
      throw err;
    } finally {
      out.off('close', left);
    }
  }

  /** Saves a new segment and its memberships in one transaction (a name taken fails on `segments_tenant_name_key`). */
  insert(tenantId: string, name: string, f: SegmentFields, createdBy: string | null): Promise<SegmentRow> {
    return this.db.transaction(async (m) => {
      const [saved] = await m.query(
        `INSERT INTO segments (tenant_id, name, description, rule, tag_ids, time_fields, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
        [tenantId, name, f.description, f.rule, f.tagIds, f.timeFields, createdBy],
      );
      await populateSegment(m, tenantId, saved.id);
      return saved;
    });
  }

  /** Saves a changed segment; `repopulate` (a new rule): its memberships again, in the same transaction. */
  update(tenantId: string, id: string, name: string, f: SegmentFields, repopulate: boolean): Promise<SegmentRow> {
    return this.db.transaction(async (m) => {
      const [[saved]] = await m.query(
        `UPDATE segments SET name = $3, description = $4, rule = $5, tag_ids = $6, time_fields = $7, updated_at = now()
          WHERE tenant_id = $1 AND id = $2 RETURNING *`,
        [tenantId, id, name, f.description, f.rule, f.tagIds, f.timeFields],
      );
      if (repopulate) await populateSegment(m, tenantId, id);
      return saved;
    });
  }

  list(tenantId: string): Promise<SegmentRow[]> {
    return this.db.query(`SELECT * FROM segments WHERE tenant_id = $1 ORDER BY name`, [tenantId]);
  }

  async find(tenantId: string, id: string): Promise<SegmentRow | undefined> {
    const [row] = await this.db.query(`SELECT * FROM segments WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return row;
  }

  /** SOPs not archived that target the segment, in their current or a published version. */
  sopsUsing(tenantId: string, id: string): Promise<{ id: string; name: string }[]> {
    return this.db.query(
      `SELECT s.id, s.name FROM sops s WHERE s.tenant_id = $1 AND s.status <> 'archived' AND (s.segment_ids @> ARRAY[$2::uuid]
         OR EXISTS (SELECT 1 FROM sop_versions v WHERE v.sop_id = s.id AND v.segment_ids @> ARRAY[$2::uuid])) ORDER BY s.name`,
      [tenantId, id],
    );
  }

  /** False when the organization has no such segment. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const [, count] = await this.db.query(`DELETE FROM segments WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return count > 0;
  }
}

function memberPage(q: Queryable, compiled: CompiledRule, limit: number, after?: string): Promise<MemberRow[]> {
  const n = compiled.params.length;
  return q.query(
    `SELECT ${MEMBER_COLUMNS} FROM contacts c
      WHERE c.tenant_id = $1 AND (${compiled.where}) ${after ? `AND c.id > $${n + 2}` : ''}
      ORDER BY c.id LIMIT $${n + 1}`,
    [...compiled.params, limit, ...(after ? [after] : [])],
  );
}

/** Member rows of a statement that answers its figures on every row and the members beside them (LEFT JOIN: none, one row). */
const members = (rows: (MemberRow & { id: string | null })[]): MemberRow[] => rows.filter((r) => r.id !== null).map((r) => ({
  id: r.id, external_id: r.external_id, name: r.name, owner_id: r.owner_id,
}));

/**
 * One pass over the members: their ids are kept (a narrow tuple store), counted, and the first `limit` by id read
 * back by key. Before, the preview counted and then ran the rule again for its first page.
 */
async function exactCount(q: Queryable, c: CompiledRule, limit: number): Promise<ExactCount> {
  const rows = await q.query(
    `WITH m AS MATERIALIZED (SELECT c.id FROM contacts c WHERE c.tenant_id = $1 AND (${c.where})),
          f AS (SELECT id FROM m ORDER BY id LIMIT ${Number(limit)})
     SELECT (SELECT count(*) FROM m)::int AS total, ${MEMBER_COLUMNS}
       FROM (SELECT) one LEFT JOIN contacts c ON c.tenant_id = $1 AND c.id IN (SELECT id FROM f)
      ORDER BY c.id`,
    c.params,
  );
  return { count: rows[0].total, first: members(rows) };
}

/**
 * The rule over a TABLESAMPLE SYSTEM sample sized to read about `rows` rows of the table (every organization's:
 * the planner's estimate of its rows gives the percentage). Pages are the sampling units, so the hits are also
 * summed per page (the page number from the row's ctid, only for hits) for the variance of the estimate.
 */
async function sampleCount(q: Queryable, c: CompiledRule, rows: number, limit: number): Promise<SampleCount> {
  const [plan] = await q.query(`EXPLAIN (FORMAT JSON) SELECT 1 FROM contacts`);
  const raw = plan['QUERY PLAN'];
  const tableRows = Number((typeof raw === 'string' ? JSON.parse(raw) : raw)[0].Plan['Plan Rows']);
  // as Postgres reads it (TABLESAMPLE SYSTEM takes a real), so that the estimate divides by the fraction it used
  const percent = Math.fround(Math.min(100, (100 * rows) / Math.max(tableRows, 1)));
  const n = c.params.length;
  const result = await q.query(
    `WITH s AS MATERIALIZED (
       SELECT c.id, CASE WHEN (${c.where}) THEN (c.ctid::text::point)[0] END AS page
         FROM contacts c TABLESAMPLE SYSTEM ($${n + 1}::float4) REPEATABLE (${SAMPLE_SEED})
        WHERE c.tenant_id = $1
     ), pages AS (SELECT count(*) AS y FROM s WHERE page IS NOT NULL GROUP BY page),
     f AS (SELECT id FROM s WHERE page IS NOT NULL LIMIT ${Number(limit)}),
     t AS (
       SELECT (SELECT count(*) FROM s)::int AS sampled, coalesce(sum(y), 0)::int AS hits, coalesce(sum(y * y), 0)::float8 AS hits_squared FROM pages
     )
     SELECT t.sampled, t.hits, t.hits_squared, ${MEMBER_COLUMNS}
       FROM t LEFT JOIN contacts c ON c.tenant_id = $1 AND c.id IN (SELECT id FROM f)
      ORDER BY c.id`,
    [...c.params, percent],
  );
  const [first] = result;
  return { fraction: percent / 100, sampled: first.sampled, hits: first.hits, hitsSquared: Number(first.hits_squared), first: members(result) };
}
