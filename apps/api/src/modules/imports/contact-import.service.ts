import { Injectable, Logger } from '@nestjs/common';
import { AppError } from '@sop/domain';
import { applyComputedTags, evaluateMembershipsSet, refreshTagNums } from '@sop/engine';
import { parse } from 'csv-parse';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { fail, failAt, notFound } from '../../common/errors.catalog';
import type { Principal } from '../../common/principal';
import { unlessTaken } from '../../common/postgres-errors';
import { type ContactRecord, headerProblems, type ImportContext, parseContactRow, type RowError } from './contact-row';
import type { ImportDto, ImportSummaryDto } from './imports.dto';
import { IMPORTS_ERRORS } from './imports.errors';
import { type ImportCounts, type ImportRow, ImportsRepository, type StagingConnection } from './imports.repository';

/** Rows merged into contacts per transaction (after the whole file is staged). */
const MERGE_CHUNK = 100_000;
/** While the file streams in, processed-row progress is written at most this often. */
const PROGRESS_MS = 1000;
const MAX_KEPT_ERRORS = 1000;
const COPY_FLUSH_CHARS = 256 * 1024;

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

/** One staging row in COPY's text format, in the column order of the repository's STAGING (hand-written: this runs once per row). */
function copyLine(seq: number, rowNo: number, r: ContactRecord): string {
  const tags = r.tag_nums.length > 1 ? [...new Set(r.tag_nums)].sort((a, b) => a - b) : r.tag_nums;
  return `${seq}\t${rowNo}\t${copyText(r.external_id)}\t${copyOptional(r.name)}\t${copyOptional(r.phone)}\t${copyOptional(r.email)}\t` +
    `${copyOptional(r.owner_id)}\t${copyOptional(r.timezone)}\t${r.attributes ? copyText(JSON.stringify(r.attributes)) : '\\N'}\t` +
    `${copyOptional(r.order_count)}\t${copyOptional(r.total_spend)}\t${copyOptional(r.spend_30d)}\t${copyOptional(r.last_order_at)}\t` +
    `${copyOptional(r.last_contacted_at)}\t${copyOptional(r.last_responded_at)}\t{${tags.join(',')}}\n`;
}

/** Parallel staging and merging connections; on 2 cores, Node parses while Postgres ingests and merges. */
const LANES = 2;

interface Lane extends StagingConnection {
  staged: number;
  buffer: string;
  error?: Error;
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

/** What the caller may say about an upload: the import's id (chosen by the client, so it can watch the import's progress while its upload is still streaming) and the file's name. */
export interface ImportOptions {
  id?: string;
  fileName?: string;
}

const toSummary = (r: ImportRow): ImportSummaryDto => ({
  id: r.id, status: r.status, fileName: r.file_name, processedRows: r.processed_rows, importedRows: r.imported_rows,
  createdRows: r.created_rows, updatedRows: r.imported_rows - r.created_rows, errorRows: r.error_rows, message: r.message,
  createdBy: r.created_by, createdByName: r.created_by_name, createdAt: r.created_at, finishedAt: r.finished_at,
});

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

  constructor(private readonly imports: ImportsRepository) {}

  async run(caller: Principal, csv: Readable, options: ImportOptions = {}): Promise<ImportDto> {
    const ctx = await this.context(caller.tenantId); // before piping: the parser must not run without a reader
    let importId: string | undefined;
    const counts: ImportCounts = { processed: 0, imported: 0, created: 0, errorRows: 0 };
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
    const lane: Lane = { ...(await this.imports.openStaging()), staged: 0, buffer: '' };
    lane.copy.on('error', (err) => (lane.error ??= err));
    return lane;
  }

  /** The lane's connection back to the pool after success; discarded after a failure (see `closeStaging`). */
  private closeLane(lane: Lane, failure: unknown): Promise<void> {
    return this.imports.closeStaging(lane, failure);
  }

  async get(tenantId: string, id: string): Promise<ImportDto> {
    const r = await this.imports.find(tenantId, id);
    if (!r) throw notFound('import', id);
    return { ...toSummary(r), errors: r.errors };
  }

  /** The organization's latest imports, newest first, without their row errors (read one for those). */
  async recent(tenantId: string, limit: number): Promise<ImportSummaryDto[]> {
    return (await this.imports.recent(tenantId, limit)).map(toSummary);
  }

  private headerError(header: string[]): AppError | undefined {
    const problems = headerProblems(header);
    if (!problems.length) return undefined;
    return fail(IMPORTS_ERRORS.CSV_COLUMNS_INVALID, `The CSV header has problems: ${problems.join('; ')}.`,
      problems.map((problem) => ({ path: 'header', problem })));
  }

  private async context(tenantId: string): Promise<ImportContext> {
    const tags = await this.imports.tags(tenantId);
    const tagNums = new Map<string, number>();
    const plain = new Map<string, number[]>();
    for (const t of tags) {
      tagNums.set(`${t.group_name}:${t.name}`.toLowerCase(), t.num);
      plain.set(t.name.toLowerCase(), [...(plain.get(t.name.toLowerCase()) ?? []), t.num]);
    }
    for (const [name, nums] of plain) if (nums.length === 1) tagNums.set(name, nums[0]);
    const owners = await this.imports.activeOwners(tenantId);
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
    const { count, rows } = await this.imports.dropRepeats(qr, MAX_KEPT_ERRORS);
    return { count, errors: rows.map((row) => ({ row, column: 'external_id', reason: 'repeated later in the file; the later row was used' })) };
  }

  /** Merges staged rows with seq in (lo, hi] in one transaction; returns how many contacts it upserted and how many of them are new. */
  private async merge(
    lane: Lane, tenantId: string, importId: string, writes: string[], lo: number, hi: number,
    time: <T>(step: string, run: () => Promise<T>) => Promise<T>,
  ): Promise<{ n: number; created: number }> {
    const { qr } = lane;
    await qr.startTransaction();
    await this.imports.startChunk(qr);
    // An exit-relevant column the file writes: existing contacts whose value it changes are marked and announced.
    const exitColumns = EXIT_FIELDS.filter(([column]) => writes.includes(column));
    const { n, created } = await time('upsert', () => this.imports.upsertChunk(qr, tenantId, lo, hi, writes, exitColumns.map(([column]) => column)));
    // The changed order and reply times announced as any writer does (`contact.updated`), in this transaction.
    if (exitColumns.length) {
      await time('announce', () => this.imports.announceExitChanges(qr, tenantId, exitColumns.map(([, field]) => field), importId));
    }
    await this.imports.analyzeChunk(qr);
    const heldSegments = lane.mayTrust ? await time('lock', () => this.imports.holdChunkReferences(qr, tenantId)) : undefined;
    await time('newTags', () => this.imports.tagNewContacts(qr, tenantId));
    await time('newTags', () => this.imports.announceNewContactsTags(qr, tenantId));
    const changed = await time('existingTags', () => this.imports.tagExistingContacts(qr, tenantId, lo, hi));
    await time('existingTags', () => refreshTagNums(qr, tenantId, changed)); // announces contact.tags_changed for them
    const ids = await this.imports.chunkContactIds(qr);
    await time('evaluate', async () => {
      // What contactsChanged does, set-based; with the row checks back on for computed tags (a rule may
      // name a tag made after the lock), and memberships for the held segments while they are off.
      if (heldSegments) await this.imports.rowChecks(qr, true);
      await applyComputedTags(qr, tenantId, ids);
      if (heldSegments) await this.imports.rowChecks(qr, false);
      await evaluateMembershipsSet(qr, tenantId, ids, new Date(), heldSegments);
    });
    await time('commit', () => qr.commitTransaction());
    return { n, created };
  }

  /** The import's row, under the id the caller chose when it chose one (a reused id is refused: nothing is imported). */
  private async open(caller: Principal, { id: chosen, fileName }: ImportOptions): Promise<string> {
    // unique per tenant: only the caller's own imports can have taken it
    const taken = () => failAt(IMPORTS_ERRORS.IMPORT_ID_TAKEN, 'id', 'is taken by one of your imports');
    return unlessTaken('imports_pkey', taken, () => this.imports.insert(caller.tenantId, caller.userId, chosen ?? null, fileName ?? null));
  }

  private progress(tenantId: string, id: string, c: ImportCounts, errors: RowError[]): Promise<void> {
    return this.imports.progress(tenantId, id, c, errors);
  }

  private finish(tenantId: string, id: string, status: 'completed' | 'failed', message: string | null): Promise<void> {
    return this.imports.finish(tenantId, id, status, message);
  }
}
