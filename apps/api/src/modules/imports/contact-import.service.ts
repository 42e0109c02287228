import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AppError, notFound } from '@sop/domain';
import { contactsChanged } from '@sop/engine';
import { parse } from 'csv-parse';
import type { Readable } from 'node:stream';
import { DataSource, type EntityManager } from 'typeorm';
import type { Principal } from '../../common/principal';
import { TagWriter } from '../tags/tag-writer.service';
import { type ContactRecord, headerProblems, type ImportContext, parseContactRow, type RowError } from './contact-row';

const BATCH = 5000;
const MAX_KEPT_ERRORS = 1000;

export interface ImportDto {
  id: string;
  status: 'running' | 'completed' | 'failed';
  processedRows: number;
  importedRows: number;
  errorRows: number;
  errors: RowError[];
  message: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

/** Contact columns an upsert may set, in the order of jsonb_to_recordset's record type. */
const FIELDS: [string, string][] = [
  ['name', 'text'], ['phone', 'text'], ['email', 'text'], ['owner_id', 'uuid'], ['timezone', 'text'], ['attributes', 'jsonb'],
  ['order_count', 'int'], ['total_spend', 'numeric'], ['spend_30d', 'numeric'], ['last_order_at', 'timestamptz'],
  ['last_contacted_at', 'timestamptz'], ['last_responded_at', 'timestamptz'],
];

/**
 * Streams a contacts CSV: parses row by row, upserts by external id in batches of 5,000 (each batch
 * one transaction), keeps every valid row, reports each bad row with its number, column and reason,
 * and records progress on the import resource as it goes. Memory stays flat whatever the file size.
 */
@Injectable()
export class ContactImportService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly tagWriter: TagWriter,
  ) {}

  async run(caller: Principal, csv: Readable): Promise<ImportDto> {
    const ctx = await this.context(caller.tenantId); // before piping: the parser must not run without a reader
    let header: AppError | undefined;
    const skipped: RowError[] = [];
    // A malformed record (wrong field count, stray quote) is a row error like any other: it is skipped
    // and reported, and the rows around it are kept. The header is checked before any row is written.
    const parser = csv.pipe(parse({
      bom: true, skip_empty_lines: true, info: true, skip_records_with_error: true,
      columns: (names: string[]) => ((header = this.headerError(names)), names.map((n) => n.trim())),
    }));
    parser.on('skip', (err: Error & { lines?: number }) => skipped.push({ row: err.lines ?? 0, column: '(row)', reason: err.message }));
    let importId: string | undefined;
    let batch: { rec: ContactRecord; row: number }[] = [];
    const counts = { processed: 0, imported: 0, errorRows: 0 };
    const errors: RowError[] = [];
    const report = (rowErrors: RowError[], rows: number) => {
      counts.errorRows += rows;
      errors.push(...rowErrors.slice(0, Math.max(0, MAX_KEPT_ERRORS - errors.length)));
    };
    const drainSkipped = () => {
      const rows = skipped.splice(0);
      counts.processed += rows.length;
      report(rows, rows.length);
    };
    const flush = async () => {
      importId ??= await this.open(caller);
      const dropped = await this.upsert(caller.tenantId, batch);
      counts.imported += batch.length - dropped.length;
      report(dropped, dropped.length);
      await this.progress(importId, counts, errors);
      batch = [];
    };
    try {
      for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
        if (header) throw header;
        drainSkipped();
        counts.processed++;
        const parsed = parseContactRow(record, info.lines, ctx);
        if (Array.isArray(parsed)) report(parsed, 1);
        else batch.push({ rec: parsed, row: info.lines });
        if (batch.length >= BATCH) await flush();
      }
      if (header) throw header;
      drainSkipped();
      await flush();
      await this.finish(importId!, 'completed', null);
    } catch (err) {
      const message = err instanceof AppError ? err.message : `stopped after row ${counts.processed + 1}: ${(err as Error).message}`;
      if (importId) await this.finish(importId, 'failed', message);
      throw err;
    }
    return this.get(caller.tenantId, importId!);
  }

  async get(tenantId: string, id: string): Promise<ImportDto> {
    const [r] = await this.db.query(`SELECT * FROM imports WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    if (!r) throw notFound('import', id);
    return {
      id: r.id, status: r.status, processedRows: r.processed_rows, importedRows: r.imported_rows, errorRows: r.error_rows,
      errors: r.errors, message: r.message, createdAt: r.created_at, finishedAt: r.finished_at,
    };
  }

  private headerError(header: string[]): AppError | undefined {
    const problems = headerProblems(header.map((h) => h.trim()));
    if (!problems.length) return undefined;
    return new AppError('CSV_COLUMNS_INVALID', 400, `The CSV header has problems: ${problems.join('; ')}.`,
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

  /** Upserts one batch in one transaction; returns errors for rows it had to drop (repeated ids). */
  private async upsert(tenantId: string, batch: { rec: ContactRecord; row: number }[]): Promise<RowError[]> {
    if (!batch.length) return [];
    const last = new Map(batch.map((b, i) => [b.rec.external_id, i]));
    const dropped = batch.filter((b, i) => last.get(b.rec.external_id) !== i)
      .map((b) => ({ row: b.row, column: 'external_id', reason: 'repeated later in the file; the later row was used' }));
    const rows = batch.filter((b, i) => last.get(b.rec.external_id) === i).map((b) => b.rec);
    // Only columns the file has are written: a column left out keeps what the contact had.
    const present = FIELDS.filter(([f]) => rows.some((r) => f in r));
    await this.db.transaction(async (m) => {
      const upserted: { id: string; external_id: string }[] = await m.query(
        `WITH input AS (
           SELECT * FROM jsonb_to_recordset($2::jsonb) AS x(external_id text, tag_nums int[]${present.map(([f, t]) => `, ${f} ${t}`).join('')})
         )
         INSERT INTO contacts AS c (tenant_id, external_id${present.map(([f]) => `, ${f}`).join('')})
         SELECT $1, external_id${present.map(([f]) => `, ${this.withDefault(f)}`).join('')} FROM input
         ON CONFLICT (tenant_id, external_id) DO UPDATE SET updated_at = now()${present
           .map(([f]) => `, ${f} = ${f === 'attributes' ? 'c.attributes || EXCLUDED.attributes' : `EXCLUDED.${f}`}`).join('')}
         RETURNING c.id, c.external_id`,
        [tenantId, JSON.stringify(rows)],
      );
      const tagsOf = new Map(rows.map((r) => [r.external_id, r.tag_nums]));
      const ids = upserted.map((u) => ({ id: u.id, tag_nums: tagsOf.get(u.external_id) ?? null }));
      await this.applyTags(m, tenantId, ids);
      await contactsChanged(m, tenantId, ids.map((r) => r.id));
    });
    return dropped;
  }

  private withDefault(field: string): string {
    const defaults: Record<string, string> = {
      name: "''", timezone: "'Asia/Shanghai'", attributes: "'{}'::jsonb", order_count: '0', total_spend: '0', spend_30d: '0',
    };
    return defaults[field] ? `coalesce(${field}, ${defaults[field]})` : field;
  }

  /** Adds the listed tags (an exclusive group keeps only the new one), with tag events by 'import'. */
  private async applyTags(m: EntityManager, tenantId: string, rows: { id: string; tag_nums: number[] | null }[]): Promise<void> {
    const pairs = rows.flatMap((r) => (r.tag_nums ?? []).map((n) => [r.id, n] as const));
    if (!pairs.length) return;
    const [{ changed }] = await m.query(
      `WITH incoming AS (
         SELECT p.contact_id, t.id AS tag_id, t.num, t.group_id, g.exclusive
           FROM unnest($2::uuid[], $3::int[]) AS p(contact_id, tag_num)
           JOIN tags t ON t.num = p.tag_num AND t.tenant_id = $1 JOIN tag_groups g ON g.id = t.group_id
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
      [tenantId, pairs.map((p) => p[0]), pairs.map((p) => p[1])],
    );
    if (changed.length) await this.tagWriter.refreshTagNums(m, tenantId, changed, { evaluate: false });
  }

  private async open(caller: Principal): Promise<string> {
    const [{ id }] = await this.db.query(`INSERT INTO imports (tenant_id, status, created_by) VALUES ($1, 'running', $2) RETURNING id`, [
      caller.tenantId, caller.userId,
    ]);
    return id;
  }

  private async progress(id: string, c: { processed: number; imported: number; errorRows: number }, errors: RowError[]): Promise<void> {
    await this.db.query(
      `UPDATE imports SET processed_rows = $2, imported_rows = $3, error_rows = $4, errors = $5 WHERE id = $1`,
      [id, c.processed, c.imported, c.errorRows, JSON.stringify(errors)],
    );
  }

  private async finish(id: string, status: 'completed' | 'failed', message: string | null): Promise<void> {
    await this.db.query(`UPDATE imports SET status = $2, message = $3, finished_at = now() WHERE id = $1`, [id, status, message]);
  }
}
