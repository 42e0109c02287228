import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AppError } from '@sop/domain';
import { applyComputedTags, evaluateMembershipsSet, refreshTagNums } from '@sop/engine';
import { parse } from 'csv-parse';
import { from as copyFrom } from 'pg-copy-streams';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { DataSource, type QueryRunner } from 'typeorm';
import { fail, failAt, notFound } from '../../common/errors.catalog';
import type { Principal } from '../../common/principal';
import { discardConnection, pgClient } from '../../common/dedicated-connection';
import { unlessTaken } from '../../common/postgres-errors';
import { type ContactRecord, headerProblems, type ImportContext, parseContactRow, type RowError } from './contact-row';
import type { ImportDto, ImportSummaryDto } from './imports.dto';
import { IMPORTS_ERRORS } from './imports.errors';

/** Rows merged into contacts per transaction (after the whole file is staged). */
const MERGE_CHUNK = 100_000;
/** While the file streams in, processed-row progress is written at most this often. */
const PROGRESS_MS = 1000;
/** Contacts per `contact.tags_changed` or `contact.updated` outbox event, as in the membership events. */
const EVENT_CONTACTS = 5000;
const MAX_KEPT_ERRORS = 1000;
const COPY_FLUSH_CHARS = 256 * 1024;

/** Staging columns with their types, in the order copyLine writes them; contact columns keep the contact's names. */
const STAGING: [keyof ContactRecord | 'seq' | 'row_no', string][] = [
  ['seq', 'int'], ['row_no', 'int'], ['external_id', 'text'], ['name', 'text'], ['phone', 'text'], ['email', 'text'], ['owner_id', 'uuid'],
  ['timezone', 'text'], ['attributes', 'jsonb'], ['order_count', 'int'], ['total_spend', 'numeric'], ['spend_30d', 'numeric'],
  ['last_order_at', 'timestamptz'], ['last_contacted_at', 'timestamptz'], ['last_responded_at', 'timestamptz'], ['tag_nums', 'int[]'],
];

/** CSV column -> the contact column it writes (attr.* columns write attributes). */
const WRITES: Record<string, string> = {
  name: 'name', phone: 'phone', email: 'email', owner_email: 'owner_id', timezone: 'timezone', order_count: 'order_count',
  total_spend: 'total_spend', spend_30d: 'spend_30d', last_order_at: 'last_order_at', last_contacted_at: 'last_contacted_at',
  last_responded_at: 'last_responded_at',
};

/**
 * The columns an exit condition reads (`bought`, `replied`) with the field names `contact.updated` gives
 * them: an import that changes one announces it, so the exit pass looks at those contacts.
 */
const EXIT_FIELDS: [column: string, field: string][] = [['last_order_at', 'lastOrderAt'], ['last_responded_at', 'lastRespondedAt']];

const DEFAULTS: Record<string, string> = {
  name: "''", timezone: "'Asia/Shanghai'", attributes: "'{}'::jsonb", order_count: '0', total_spend: '0', spend_30d: '0',
};

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Text in COPY's text format: backslash escapes for the characters COPY gives meaning to. */
function copyText(s: string): string {
  return COPY_SPECIAL.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]) : s;
}

/** An optional value: \N for none. */
function copyOptional(v: string | number | null | undefined): string {
  return v === undefined || v === null ? '\\N' : typeof v === 'number' ? String(v) : copyText(v);
}

/** One staging row in COPY's text format, in STAGING's column order (hand-written: this runs once per row). */
function copyLine(seq: number, rowNo: number, r: ContactRecord): string {
  const tags = r.tag_nums.length > 1 ? [...new Set(r.tag_nums)].sort((a, b) => a - b) : r.tag_nums;
  return `${seq}\t${rowNo}\t${copyText(r.external_id)}\t${copyOptional(r.name)}\t${copyOptional(r.phone)}\t${copyOptional(r.email)}\t` +
    `${copyOptional(r.owner_id)}\t${copyOptional(r.timezone)}\t${r.attributes ? copyText(JSON.stringify(r.attributes)) : '\\N'}\t` +
    `${copyOptional(r.order_count)}\t${copyOptional(r.total_spend)}\t${copyOptional(r.spend_30d)}\t${copyOptional(r.last_order_at)}\t` +
    `${copyOptional(r.last_contacted_at)}\t${copyOptional(r.last_responded_at)}\t{${tags.join(',')}}\n`;
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
async function holdChunkReferences(qr: QueryRunner, tenantId: string): Promise<string[]> {
  await qr.query(`SELECT 1 FROM tags WHERE tenant_id = $1 FOR KEY SHARE`, [tenantId]);
  const segments: { id: string }[] = await qr.query(`SELECT id FROM segments WHERE tenant_id = $1 FOR KEY SHARE`, [tenantId]);
  await rowChecks(qr, false);
  return segments.map((r) => r.id);
}

const rowChecks = (qr: QueryRunner, on: boolean) => qr.query(`SET LOCAL session_replication_role = ${on ? 'origin' : 'replica'}`);

/** Parallel staging and merging connections; on 2 cores, Node parses while Postgres ingests and merges. */
const LANES = 2;

interface Lane {
  qr: QueryRunner;
  copy: Writable;
  staged: number;
  buffer: string;
  error?: Error;
  /** whether this connection may set session_replication_role (see `holdChunkReferences`) */
  mayTrust: boolean;
}

/** The lane of an external id: a small string hash, so repeats of one id meet in one lane. */
function laneOf(externalId: string, lanes: number): number {
  let h = 0;
  for (let i = 0; i < externalId.length; i++) h = (h * 31 + externalId.charCodeAt(i)) | 0;
  return (h >>> 0) % lanes;
}

/** Writes the lane's buffered COPY text, waiting while the connection is behind. */
async function flush(lane: Lane): Promise<void> {
  if (lane.error) throw lane.error;
  if (!lane.buffer) return;
  const text = lane.buffer;
  lane.buffer = '';
  if (lane.copy.write(text)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      lane.copy.off('drain', done).off('error', done);
      if (err) reject(err);
      else resolve();
    };
    lane.copy.on('drain', done).on('error', done);
  });
}

interface Counts {
  processed: number;
  imported: number;
  /** of the imported rows, those that made a new contact */
  created: number;
  errorRows: number;
}

/** What the caller may say about an upload: the import's id (chosen by the client, so it can watch the import's progress while its upload is still streaming) and the file's name. */
export interface ImportOptions {
  id?: string;
  fileName?: string;
}

interface ImportRow {
  id: string; status: ImportDto['status']; processed_rows: number; imported_rows: number; created_rows: number; error_rows: number;
  errors: RowError[]; message: string | null; file_name: string | null; created_by: string | null; created_by_name: string | null;
  created_at: Date; finished_at: Date | null;
}

const toSummary = (r: ImportRow): ImportSummaryDto => ({
  id: r.id, status: r.status, fileName: r.file_name, processedRows: r.processed_rows, importedRows: r.imported_rows,
  createdRows: r.created_rows, updatedRows: r.imported_rows - r.created_rows, errorRows: r.error_rows, message: r.message,
  createdBy: r.created_by, createdByName: r.created_by_name, createdAt: r.created_at, finishedAt: r.finished_at,
});

/** An import with its author's name (the list and the detail read the same columns). */
const SELECT_IMPORTS = `SELECT i.*, u.name AS created_by_name FROM imports i LEFT JOIN users u ON u.tenant_id = i.tenant_id AND u.id = i.created_by`;

/**
 * Streams a contacts CSV in two phases on two dedicated connections (lanes; docs/segments.md, CSV import).
 *
 * 1. Stage: rows are parsed and validated in Node as they arrive (each bad row reported with its
 *    number, column and reason) and the valid ones are streamed with COPY into a TEMP table on the
 *    lane their external id hashes to, so Postgres ingests while Node parses. The header is checked
 *    before anything is kept.
 * 2. Merge: a file that names one external id twice keeps its later row (earlier rows are reported);
 *    then each lane, in parallel, per chunk of 100,000 rows and in one transaction each: one
 *    INSERT ... SELECT ... ON CONFLICT upserts the contacts, tags and tag events are written
 *    set-based (an exclusive group keeps only the new tag), and computed tags and segment memberships
 *    are re-evaluated for the chunk's contacts set-based (`applyComputedTags`, `evaluateMembershipsSet`), with the same outbox
 *    events as any change.
 *
 * Progress is written to the import resource as it goes; memory stays flat whatever the file size.
 */
@Injectable()
export class ContactImportService {
  private readonly logger = new Logger('ContactImport');

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async run(caller: Principal, csv: Readable, options: ImportOptions = {}): Promise<ImportDto> {
    const ctx = await this.context(caller.tenantId); // before piping: the parser must not run without a reader
    let importId: string | undefined;
    const counts: Counts = { processed: 0, imported: 0, created: 0, errorRows: 0 };
    const errors: RowError[] = [];
    let stage = 'stage';
    const started = Date.now();
    const took: Record<string, number> = {};
    const time = async <T>(step: string, run: () => Promise<T>): Promise<T> => {
      const t = Date.now();
      try {
        return await run();
      } finally {
        took[step] = (took[step] ?? 0) + Date.now() - t;
      }
    };
    const lanes: Lane[] = [];
    let failure: unknown;
    try {
      for (let i = 0; i < LANES; i++) lanes.push(await this.openLane());
      let header: AppError | undefined;
      let writes: string[] = [];
      const skipped: RowError[] = [];
      // A malformed record (wrong field count, stray quote) is a row error like any other: it is skipped
      // and reported, and the rows around it are kept. The header is checked before any row is kept.
      const parser = csv.pipe(parse({
        bom: true, skip_empty_lines: true, info: true, skip_records_with_error: true,
        columns: (names: string[]) => {
          const trimmed = names.map((n) => n.trim());
          header = this.headerError(trimmed);
          writes = [...new Set(trimmed.flatMap((n) => (WRITES[n] ? [WRITES[n]] : n.startsWith('attr.') ? ['attributes'] : [])))];
          return trimmed;
        },
      }));
      parser.on('skip', (err: Error & { lines?: number }) => skipped.push({ row: err.lines ?? 0, column: '(row)', reason: err.message }));
      // pipe() does not pass on a broken upload: without this the parser would wait forever, holding both connections.
      csv.once('error', (err) => parser.destroy(err));
      csv.once('close', () => {
        if (!csv.readableEnded) parser.destroy(new Error('the upload was cut off before the end of the file'));
      });
      const report = (rowErrors: RowError[], rows: number) => {
        counts.errorRows += rows;
        errors.push(...rowErrors.slice(0, Math.max(0, MAX_KEPT_ERRORS - errors.length)));
      };
      const drainSkipped = () => {
        const rows = skipped.splice(0);
        counts.processed += rows.length;
        report(rows, rows.length);
      };

      await time('stage', async () => {
        let nextProgress = Date.now() + PROGRESS_MS;
        for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
          if (header) throw header;
          importId ??= await this.open(caller, options);
          drainSkipped();
          counts.processed++;
          const parsed = parseContactRow(record, info.lines, ctx);
          if (Array.isArray(parsed)) report(parsed, 1);
          else {
            // Rows with the same external id always go to the same lane, so each lane settles repeats alone.
            const lane = lanes[laneOf(parsed.external_id, lanes.length)];
            lane.buffer += copyLine(++lane.staged, info.lines, parsed);
            if (lane.buffer.length >= COPY_FLUSH_CHARS) await flush(lane);
          }
          if (Date.now() >= nextProgress) {
            await this.progress(caller.tenantId, importId, counts, errors);
            nextProgress = Date.now() + PROGRESS_MS;
          }
        }
        if (header) throw header;
        drainSkipped();
        for (const lane of lanes) {
          await flush(lane);
          lane.copy.end();
        }
        await Promise.all(lanes.map((lane) => finished(lane.copy)));
      });
      importId ??= await this.open(caller, options);
      await this.progress(caller.tenantId, importId, counts, errors);

      stage = 'merge';
      const repeated = await time('repeats', () => Promise.all(lanes.map((lane) => this.dropRepeats(lane))));
      for (const r of repeated) {
        counts.errorRows += r.count;
        errors.push(...r.errors);
      }
      errors.sort((a, b) => a.row - b.row).splice(MAX_KEPT_ERRORS);
      // The lanes merge in parallel, each its own chunks in its own transactions; their contacts are disjoint.
      let progress = Promise.resolve();
      const merged = await Promise.allSettled(lanes.map(async (lane) => {
        for (let lo = 0; lo < lane.staged && !failure; lo += MERGE_CHUNK) {
          try {
            const { n, created } = await this.merge(lane, caller.tenantId, importId!, writes, lo, Math.min(lane.staged, lo + MERGE_CHUNK), time);
            counts.imported += n; // not `+= await`: the other lane adds meanwhile
            counts.created += created;
          } catch (err) {
            failure ??= err;
            throw err;
          }
          progress = progress.then(() => this.progress(caller.tenantId, importId!, counts, errors));
          await progress;
        }
      }));
      if (failure) throw failure;
      merged.forEach((m) => {
        if (m.status === 'rejected') throw m.reason;
      });
      await this.finish(caller.tenantId, importId, 'completed', null);
      this.logger.log(`import ${importId}: ${counts.imported} of ${counts.processed} rows in ${Date.now() - started} ms; ms per step ${JSON.stringify(took)}`);
    } catch (err) {
      failure ??= err;
      const message = err instanceof AppError ? err.message
        : stage === 'stage' ? `stopped after row ${counts.processed + 1}: ${(err as Error).message}`
        : `stopped after ${counts.imported} imported rows: ${(err as Error).message}`;
      if (importId) await this.finish(caller.tenantId, importId, 'failed', message);
      throw err;
    } finally {
      await Promise.all(lanes.map((lane) => this.closeLane(lane, failure)));
    }
    return this.get(caller.tenantId, importId!);
  }

  /** A dedicated connection with its TEMP staging table and an open COPY into it. */
  private async openLane(): Promise<Lane> {
    const qr = this.db.createQueryRunner();
    await qr.connect();
    await qr.query(`CREATE TEMP TABLE import_rows (${STAGING.map(([c, t]) => `${c} ${t}`).join(', ')})`);
    const mayTrust = await qr.query(`SET session_replication_role = replica; RESET session_replication_role`).then(() => true, () => false);
    const copy = pgClient(qr).query(copyFrom(`COPY import_rows FROM STDIN`));
    const lane: Lane = { qr, copy, staged: 0, buffer: '', mayTrust };
    copy.on('error', (err) => (lane.error ??= err));
    return lane;
  }

  /**
   * After success the staging tables are dropped and the connection goes back to the pool; after a
   * failure the connection is discarded (a COPY may have been cut short), which drops them too.
   */
  private async closeLane(lane: Lane, failure: unknown): Promise<void> {
    if (failure) {
      lane.copy.destroy();
      return discardConnection(lane.qr, failure);
    }
    await lane.qr.query(`DROP TABLE IF EXISTS pg_temp.import_rows, pg_temp.import_repeats, pg_temp.import_chunk`).catch(() => undefined);
    await lane.qr.release();
  }

  async get(tenantId: string, id: string): Promise<ImportDto> {
    const [r]: ImportRow[] = await this.db.query(`${SELECT_IMPORTS} WHERE i.tenant_id = $1 AND i.id = $2`, [tenantId, id]);
    if (!r) throw notFound('import', id);
    return { ...toSummary(r), errors: r.errors };
  }

  /** The organization's latest imports, newest first, without their row errors (read one for those). */
  async recent(tenantId: string, limit: number): Promise<ImportSummaryDto[]> {
    const rows: ImportRow[] = await this.db.query(
      `${SELECT_IMPORTS} WHERE i.tenant_id = $1 ORDER BY i.created_at DESC, i.id DESC LIMIT $2`, [tenantId, limit]);
    return rows.map(toSummary);
  }

  private headerError(header: string[]): AppError | undefined {
    const problems = headerProblems(header);
    if (!problems.length) return undefined;
    return fail(IMPORTS_ERRORS.CSV_COLUMNS_INVALID, `The CSV header has problems: ${problems.join('; ')}.`,
      problems.map((problem) => ({ path: 'header', problem })));
  }

  private async context(tenantId: string): Promise<ImportContext> {
    const tags: { num: number; name: string; group_name: string; exclusive: boolean }[] = await this.db.query(
      `SELECT t.num, t.name, g.name AS group_name, g.exclusive FROM tags t JOIN tag_groups g ON g.id = t.group_id WHERE t.tenant_id = $1`,
      [tenantId],
    );
    const tagNums = new Map<string, number>();
    const plain = new Map<string, number[]>();
    for (const t of tags) {
      tagNums.set(`${t.group_name}:${t.name}`.toLowerCase(), t.num);
      plain.set(t.name.toLowerCase(), [...(plain.get(t.name.toLowerCase()) ?? []), t.num]);
    }
    for (const [name, nums] of plain) if (nums.length === 1) tagNums.set(name, nums[0]);
    const owners: { email: string; id: string }[] = await this.db.query(
      `SELECT email, id FROM users WHERE tenant_id = $1 AND disabled_at IS NULL`, [tenantId]);
    return {
      tagNums,
      exclusiveGroupOf: new Map(tags.map((t) => [t.num, t.exclusive ? t.group_name : null])),
      ownerIds: new Map(owners.map((o) => [o.email, o.id])),
      timeZones: new Set(Intl.supportedValuesOf('timeZone').concat('UTC')),
    };
  }

  /**
   * A file that names one external id more than once keeps its later row: the earlier ones are
   * reported and removed from staging, so every staged external id is unique before merging.
   */
  private async dropRepeats({ qr, staged }: Lane): Promise<{ count: number; errors: RowError[] }> {
    if (!staged) return { count: 0, errors: [] };
    await qr.startTransaction();
    await qr.query(`SET LOCAL work_mem = '256MB'`);
    await qr.query(`CREATE TEMP TABLE import_repeats AS
      SELECT external_id, max(seq) AS keep FROM import_rows GROUP BY external_id HAVING count(*) > 1`);
    const [{ count }] = await qr.query(`SELECT count(*)::int AS count FROM import_rows r JOIN import_repeats d USING (external_id) WHERE r.seq <> d.keep`);
    const rows: { row: number }[] = count ? await qr.query(
      `SELECT r.row_no AS row FROM import_rows r JOIN import_repeats d USING (external_id)
        WHERE r.seq <> d.keep ORDER BY r.row_no LIMIT ${MAX_KEPT_ERRORS}`) : [];
    if (count) await qr.query(`DELETE FROM import_rows r USING import_repeats d WHERE r.external_id = d.external_id AND r.seq <> d.keep`);
    await qr.query(`CREATE INDEX ON import_rows (seq)`);
    await qr.query(`ANALYZE import_rows`);
    await qr.query(`CREATE TEMP TABLE import_chunk (id uuid NOT NULL, external_id text NOT NULL, inserted boolean NOT NULL, tag_nums int[] NOT NULL,
      exit_fields_changed boolean NOT NULL DEFAULT false)`);
    await qr.commitTransaction();
    return { count, errors: rows.map((r) => ({ row: r.row, column: 'external_id', reason: 'repeated later in the file; the later row was used' })) };
  }

  /** Merges staged rows with seq in (lo, hi] in one transaction; returns how many contacts it upserted and how many of them are new. */
  private async merge(
    lane: Lane, tenantId: string, importId: string, writes: string[], lo: number, hi: number,
    time: <T>(step: string, run: () => Promise<T>) => Promise<T>,
  ): Promise<{ n: number; created: number }> {
    const { qr } = lane;
    // Only columns the file has are written: a column left out keeps what the contact had; attributes merge.
    const value = (c: string) => (DEFAULTS[c] ? `coalesce(s.${c}, ${DEFAULTS[c]})` : `s.${c}`);
    const set = (c: string) => (c === 'attributes' ? 'attributes = c.attributes || EXCLUDED.attributes' : `${c} = EXCLUDED.${c}`);
    await qr.startTransaction();
    await qr.query(`SET LOCAL work_mem = '64MB'`);
    await qr.query(`TRUNCATE import_chunk`);
    // An exit-relevant column the file writes: existing contacts whose value it changes are marked, comparing with
    // `earlier`, which reads the rows as they were (every part of one statement sees the same snapshot, not the
    // upsert's own changes). A file without such a column pays nothing for this.
    const exitColumns = EXIT_FIELDS.filter(([column]) => writes.includes(column));
    const earlier = exitColumns.length ? `earlier AS (
         SELECT c.id${exitColumns.map(([column]) => `, c.${column}`).join('')}
           FROM import_rows s JOIN contacts c ON c.tenant_id = $1 AND c.external_id = s.external_id WHERE s.seq > $2 AND s.seq <= $3
       ), ` : '';
    const changedExpr = exitColumns.length
      ? `NOT up.inserted AND (${exitColumns.map(([column]) => `up.${column} IS DISTINCT FROM b.${column}`).join(' OR ')})` : 'false';
    // A new contact gets its tag_nums in its first and only row version; existing ones after their tags change.
    const [{ n, created }] = await time('upsert', () => qr.query(
      `WITH ${earlier}up AS (
         INSERT INTO contacts AS c (tenant_id, external_id, tag_nums${writes.map((c) => `, ${c}`).join('')})
         SELECT $1, s.external_id, coalesce(s.tag_nums, '{}')${writes.map((c) => `, ${value(c)}`).join('')}
           FROM import_rows s WHERE s.seq > $2 AND s.seq <= $3
         ON CONFLICT (tenant_id, external_id) DO UPDATE SET updated_at = now()${writes.map((c) => `, ${set(c)}`).join('')}
         RETURNING c.id, c.external_id, c.xmax = 0 AS inserted, c.tag_nums${exitColumns.map(([column]) => `, c.${column}`).join('')}
       ), kept AS (
         INSERT INTO import_chunk (id, external_id, inserted, tag_nums, exit_fields_changed)
         SELECT up.id, up.external_id, up.inserted, up.tag_nums, ${changedExpr}
           FROM up${exitColumns.length ? ' LEFT JOIN earlier b ON b.id = up.id' : ''}
         RETURNING inserted
       )
       SELECT count(*)::int AS n, count(*) FILTER (WHERE inserted)::int AS created FROM kept`,
      [tenantId, lo, hi],
    ));
    // The changed order and reply times announced as any writer does (`contact.updated`), in this transaction: the
    // outbox trigger queues the exit checks of their enrollments, and the wake relay wakes their journeys.
    if (exitColumns.length) {
      await time('announce', () => qr.query(
        `INSERT INTO domain_events (tenant_id, type, payload)
         SELECT $1, 'contact.updated', jsonb_build_object('contactIds', jsonb_agg(id), 'fields', $2::jsonb, 'importId', $3::uuid)
           FROM (SELECT id, (row_number() OVER () - 1) / ${EVENT_CONTACTS} AS part FROM import_chunk WHERE exit_fields_changed) x
          GROUP BY part`,
        [tenantId, JSON.stringify(exitColumns.map(([, field]) => field)), importId],
      ));
    }
    await qr.query(`ANALYZE import_chunk`);
    const heldSegments = lane.mayTrust ? await time('lock', () => holdChunkReferences(qr, tenantId)) : undefined;
    // New contacts: every listed tag is added (there are no earlier tags to clear), with its tag event.
    await time('newTags', () => qr.query(
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
    ));
    await time('newTags', () => qr.query(
      `INSERT INTO domain_events (tenant_id, type, payload)
       SELECT $1, 'contact.tags_changed', jsonb_build_object('contactIds', jsonb_agg(id))
         FROM (SELECT id, (row_number() OVER () - 1) / ${EVENT_CONTACTS} AS part FROM import_chunk WHERE inserted AND tag_nums <> '{}') x
        GROUP BY part`,
      [tenantId],
    ));
    // Existing contacts: a new tag in an exclusive group removes the group's other tags.
    const [{ changed }] = await time('existingTags', () => qr.query(
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
    ));
    await time('existingTags', () => refreshTagNums(qr, tenantId, changed)); // announces contact.tags_changed for them
    const ids: string[] = (await qr.query(`SELECT coalesce(array_agg(id), '{}') AS ids FROM import_chunk`))[0].ids;
    await time('evaluate', async () => {
      // What contactsChanged does, set-based; with the row checks back on for computed tags (a rule may
      // name a tag made after the lock), and memberships for the held segments while they are off.
      if (heldSegments) await rowChecks(qr, true);
      await applyComputedTags(qr, tenantId, ids);
      if (heldSegments) await rowChecks(qr, false);
      await evaluateMembershipsSet(qr, tenantId, ids, new Date(), heldSegments);
    });
    await time('commit', () => qr.commitTransaction());
    return { n, created };
  }

  /** The import's row, under the id the caller chose when it chose one (a reused id is refused: nothing is imported). */
  private async open(caller: Principal, { id: chosen, fileName }: ImportOptions): Promise<string> {
    // unique per tenant: only the caller's own imports can have taken it
    const taken = () => failAt(IMPORTS_ERRORS.IMPORT_ID_TAKEN, 'id', 'is taken by one of your imports');
    const [{ id }] = await unlessTaken('imports_pkey', taken, () => this.db.query(
      `INSERT INTO imports (id, tenant_id, status, created_by, file_name) VALUES (COALESCE($3::uuid, gen_random_uuid()), $1, 'running', $2, $4) RETURNING id`,
      [caller.tenantId, caller.userId, chosen ?? null, fileName ?? null],
    ));
    return id;
  }

  private async progress(tenantId: string, id: string, c: Counts, errors: RowError[]): Promise<void> {
    await this.db.query(
      `UPDATE imports SET processed_rows = $2, imported_rows = $3, error_rows = $4, errors = $5, created_rows = $6 WHERE id = $1 AND tenant_id = $7`,
      [id, c.processed, c.imported, c.errorRows, JSON.stringify(errors), c.created, tenantId],
    );
  }

  private async finish(tenantId: string, id: string, status: 'completed' | 'failed', message: string | null): Promise<void> {
    await this.db.query(`UPDATE imports SET status = $2, message = $3, finished_at = now() WHERE id = $1 AND tenant_id = $4`, [id, status, message, tenantId]);
  }
}
