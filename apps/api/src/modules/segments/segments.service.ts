import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { compileRule, referencedTags, type Rule, SqlParams, timeFields, UUID_PATTERN, validateRule } from '@sop/domain';
import { loadTagNums, populateSegment } from '@sop/engine';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { to as copyTo } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { discardConnection, pgClient } from '../../common/dedicated-connection';
import { COMMON_ERRORS, fail, failAt, notFound } from '../../common/errors.catalog';
import { isQueryCanceled, taken, unlessTaken } from '../../common/postgres-errors';
import type { Principal } from '../../common/principal';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import type { CreateSegmentDto, MemberDto, MemberPageDto, PreviewDto, SegmentDto, UpdateSegmentDto } from './segments.dto';
import { SEGMENTS_ERRORS } from './segments.errors';

interface SegmentRow { id: string; name: string; description: string; rule: unknown; created_at: Date; updated_at: Date }
interface MemberRow { id: string; external_id: string; name: string; owner_id: string | null }

const toSegmentDto = (r: SegmentRow): SegmentDto => ({
  id: r.id, name: r.name, description: r.description, rule: r.rule, createdAt: r.created_at, updatedAt: r.updated_at,
});
const toMemberDto = (r: MemberRow): MemberDto => ({ id: r.id, externalId: r.external_id, name: r.name, ownerId: r.owner_id });

const nameTaken = (name: string) => () => taken(SEGMENTS_ERRORS.SEGMENT_NAME_TAKEN, `A segment named "${name}" already exists.`, 'name');

const SAMPLE = 20;
/** Up to this many members, a preview's sample is taken from all of them rather than by walking ids. */
const FETCH_ALL_BELOW = 10_000;
const ID_PAGE = 5000;
const EXPORT_COLUMNS = ['id', 'external_id', 'name', 'phone', 'email', 'owner_id'];
/** Excel reads a CSV without it as the local code page, which garbles Chinese names. */
const UTF8_BOM = '\ufeff';

/**
 * A cell a spreadsheet would run as a formula (=, +, -, @, tab or CR first) gets a leading ': customer
 * names come from outside. Numbers such as +86 138 0000 0000 or -5 are left as they are.
 */
const spreadsheetSafe = (col: string) =>
  `CASE WHEN ${col}::text ~ '^[-=+@\t\r]' AND ${col}::text !~ '^[-+]?[0-9][0-9 ().-]*$' THEN '''' || ${col} ELSE ${col}::text END AS ${col}`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows as the driver gives them, typed by each caller
type Query = (sql: string, params: unknown[]) => Promise<any[]>;

/** A compiled rule: `where` is a boolean SQL expression over `contacts c`; $1 is always the tenant id. */
interface CompiledRule {
  where: string;
  params: unknown[];
}

@Injectable()
export class SegmentsService {
  private readonly limits: AppConfig['segments'];

  constructor(@InjectDataSource() private readonly db: DataSource, @Inject(APP_CONFIG) config: AppConfig) {
    this.limits = config.segments;
  }

  /**
   * Validates a rule against the tenant's tags (errors name the JSON path) and compiles it to SQL. A new
   * or changed rule (`budget`) must also plan within the cost budget: the engine evaluates saved rules on
   * every change, and previews run as the user types.
   */
  async compile(tenantId: string, input: unknown, { now = new Date(), budget = true } = {}): Promise<{ rule: Rule; compiled: CompiledRule }> {
    const tagNums = await loadTagNums(this.db, tenantId);
    const rule = validateRule(input, { tagNums, root: 'rule' });
    const params = new SqlParams(2);
    const where = compileRule(rule, { tagNums, now, params });
    const compiled = { where, params: [tenantId, ...params.values] };
    if (budget) await this.withinBudget(compiled);
    return { rule, compiled };
  }

  /** Refuses a rule whose count Postgres plans above the cost budget (EXPLAIN's total cost, in its own units). */
  private async withinBudget(compiled: CompiledRule): Promise<void> {
    const [row] = await this.db.query(`EXPLAIN (FORMAT JSON) SELECT count(*) FROM contacts c WHERE c.tenant_id = $1 AND (${compiled.where})`, compiled.params);
    const plan = row['QUERY PLAN'];
    const cost = Number((typeof plan === 'string' ? JSON.parse(plan) : plan)[0].Plan['Total Cost']);
    if (cost > this.limits.costBudget) {
      throw fail(SEGMENTS_ERRORS.SEGMENT_TOO_EXPENSIVE,
        `This rule is planned at cost ${Math.round(cost)}, over the budget of ${this.limits.costBudget}: ${SEGMENTS_ERRORS.SEGMENT_TOO_EXPENSIVE.message}`,
        [{ path: 'rule', problem: `planned cost ${Math.round(cost)} is over the budget of ${this.limits.costBudget}` }]);
    }
  }

  /**
   * Runs a preview's or a page's queries in one transaction under a statement timeout: a rule that runs
   * longer is stopped and answered 422 SEGMENT_TOO_EXPENSIVE rather than holding a connection and a core.
   */
  private async timed<T>(run: (q: Query) => Promise<T>): Promise<T> {
    const qr = this.db.createQueryRunner();
    await qr.connect();
    try {
      await qr.startTransaction();
      await qr.query(`SELECT set_config('statement_timeout', $1, true)`, [`${this.limits.timeoutMs}ms`]);
      const result = await run((sql, params) => qr.query(sql, params));
      await qr.commitTransaction();
      return result;
    } catch (err) {
      if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
      if (isQueryCanceled(err)) {
        throw fail(SEGMENTS_ERRORS.SEGMENT_TOO_EXPENSIVE,
          `This rule ran longer than ${this.limits.timeoutMs / 1000} s and was stopped: ${SEGMENTS_ERRORS.SEGMENT_TOO_EXPENSIVE.message}`,
          [{ path: 'rule', problem: `ran longer than ${this.limits.timeoutMs} ms` }]);
      }
      throw err;
    } finally {
      await qr.release();
    }
  }

  async preview(tenantId: string, input: unknown): Promise<PreviewDto> {
    const { compiled } = await this.compile(tenantId, input);
    const matching = `SELECT c.id, c.external_id, c.name, c.owner_id FROM contacts c WHERE c.tenant_id = $1 AND (${compiled.where})`;
    // each under the statement timeout (timed): a rule that runs too long answers 422 SEGMENT_TOO_EXPENSIVE
    const [{ count }] = await this.timed((q) => q(`SELECT count(*)::int AS count FROM contacts c WHERE c.tenant_id = $1 AND (${compiled.where})`, compiled.params));
    if (count === 0) return { count, sample: [] };
    // Few members: fetch them all and take the first (a plain ORDER BY id LIMIT would walk the tenant's
    // whole id index looking for them: 2.3 s for a tag no one has among 1,000,000 contacts). Many: walk
    // the id index, which meets SAMPLE members after about SAMPLE × contacts / count rows.
    const sample = await this.timed((q) => q(
      count <= FETCH_ALL_BELOW ? `WITH m AS MATERIALIZED (${matching}) SELECT * FROM m ORDER BY id LIMIT ${SAMPLE}` : `${matching} ORDER BY c.id LIMIT ${SAMPLE}`,
      compiled.params,
    ));
    return { count, sample: sample.map(toMemberDto) };
  }

  async create(caller: Principal, dto: CreateSegmentDto): Promise<SegmentDto> {
    const { rule } = await this.compile(caller.tenantId, dto.rule);
    const [row] = await unlessTaken('segments_tenant_name_key', nameTaken(dto.name), () =>
      this.db.transaction(async (m) => {
        const saved = await m.query(
        `INSERT INTO segments (tenant_id, name, description, rule, tag_ids, time_fields, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
        [caller.tenantId, dto.name.trim(), dto.description ?? '', rule, referencedTags(rule), timeFields(rule), caller.userId],
        );
        await populateSegment(m, caller.tenantId, saved[0].id);
        return saved;
      }),
    );
    return toSegmentDto(row);
  }

  async list(tenantId: string): Promise<SegmentDto[]> {
    const rows: SegmentRow[] = await this.db.query(`SELECT * FROM segments WHERE tenant_id = $1 ORDER BY name`, [tenantId]);
    return rows.map(toSegmentDto);
  }

  async get(tenantId: string, id: string): Promise<SegmentDto> {
    return toSegmentDto(await this.row(tenantId, id));
  }

  async update(tenantId: string, id: string, dto: UpdateSegmentDto): Promise<SegmentDto> {
    const current = await this.row(tenantId, id);
    const rule = dto.rule === undefined ? current.rule : (await this.compile(tenantId, dto.rule)).rule;
    const [[row]] = await unlessTaken('segments_tenant_name_key', nameTaken(dto.name ?? current.name), () =>
      this.db.transaction(async (m) => {
        const saved = await m.query(
        `UPDATE segments SET name = $3, description = $4, rule = $5, tag_ids = $6, time_fields = $7, updated_at = now()
          WHERE tenant_id = $1 AND id = $2 RETURNING *`,
        [tenantId, id, dto.name?.trim() ?? current.name, dto.description ?? current.description, rule,
          referencedTags(rule as Rule), timeFields(rule as Rule)],
        );
        if (dto.rule !== undefined) await populateSegment(m, tenantId, id);
        return saved;
      }),
    );
    return toSegmentDto(row);
  }

  async remove(tenantId: string, id: string): Promise<void> {
    const sops: { id: string; name: string }[] = await this.db.query(
      `SELECT s.id, s.name FROM sops s WHERE s.tenant_id = $1 AND s.status <> 'archived' AND (s.segment_ids @> ARRAY[$2::uuid]
         OR EXISTS (SELECT 1 FROM sop_versions v WHERE v.sop_id = s.id AND v.segment_ids @> ARRAY[$2::uuid])) ORDER BY s.name`,
      [tenantId, id],
    );
    if (sops.length) {
      throw fail(SEGMENTS_ERRORS.SEGMENT_IN_USE, `In use by ${sops.map((s) => `SOP "${s.name}"`).join(', ')}. Change or archive them first.`,
        sops.map((s) => ({ path: `sops/${s.id}`, problem: `SOP "${s.name}" targets it` })));
    }
    const [, count] = await this.db.query(`DELETE FROM segments WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    if (!count) throw notFound('segment', id);
  }

  /** A saved segment's rule compiled against today's tags; 404 when the segment does not exist. */
  async compileSaved(tenantId: string, id: string): Promise<CompiledRule> {
    return (await this.compile(tenantId, (await this.row(tenantId, id)).rule, { budget: false })).compiled;
  }

  /** Current members by contact id (keyset), evaluated from the rule against today's data. */
  async members(tenantId: string, id: string, limit: number, after?: string): Promise<MemberPageDto> {
    // the cursor is the last contact id of the previous page
    if (after !== undefined && !UUID_PATTERN.test(after)) throw failAt(COMMON_ERRORS.VALIDATION_FAILED, 'cursor', 'is not a cursor this API returned', 400);
    const compiled = await this.compileSaved(tenantId, id);
    const rows = await this.timed((q) => this.memberPage(compiled, limit + 1, after, q));
    const items = rows.slice(0, limit).map(toMemberDto);
    return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
  }

  async isMember(tenantId: string, id: string, contactId: string): Promise<boolean> {
    const compiled = await this.compileSaved(tenantId, id);
    const n = compiled.params.length + 1;
    const [row] = await this.db.query(
      `SELECT (${compiled.where}) AS member FROM contacts c WHERE c.tenant_id = $1 AND c.id = $${n}`,
      [...compiled.params, contactId],
    );
    if (!row) throw notFound('contact', contactId);
    return row.member;
  }

  /**
   * Streams every member as CSV, from one snapshot. The rule runs once with its bound parameters into a
   * TEMP table; then Postgres writes the CSV itself (COPY takes no parameters, so it only reads that
   * table) and Node relays bytes with backpressure: memory stays flat and no row becomes a JS object.
   */
  async exportCsv(compiled: CompiledRule, out: Writable): Promise<void> {
    const qr = this.db.createQueryRunner();
    await qr.connect();
    try {
      await qr.startTransaction('REPEATABLE READ');
      await qr.query(`CREATE TEMP TABLE export_members ON COMMIT DROP AS SELECT ${EXPORT_COLUMNS.join(', ')} FROM contacts WITH NO DATA`);
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
    }
  }

  /** Every current member's id, in pages: for bulk actions on a whole segment. */
  async *memberIds(tenantId: string, id: string): AsyncGenerator<string[]> {
    for await (const rows of this.pages(await this.compileSaved(tenantId, id))) yield rows.map((r) => r.id);
  }

  /** Every member in keyset pages of ID_PAGE rows. */
  private async *pages(compiled: CompiledRule): AsyncGenerator<MemberRow[]> {
    let after: string | undefined;
    for (;;) {
      const rows = await this.memberPage(compiled, ID_PAGE, after);
      if (rows.length) yield rows;
      if (rows.length < ID_PAGE) return;
      after = rows[rows.length - 1].id;
    }
  }

  private memberPage(
    compiled: CompiledRule, limit: number, after?: string, q: Query = (sql, params) => this.db.query(sql, params),
  ): Promise<MemberRow[]> {
    const n = compiled.params.length;
    return q(
      `SELECT c.id, c.external_id, c.name, c.owner_id FROM contacts c
        WHERE c.tenant_id = $1 AND (${compiled.where}) ${after ? `AND c.id > $${n + 2}` : ''}
        ORDER BY c.id LIMIT $${n + 1}`,
      [...compiled.params, limit, ...(after ? [after] : [])],
    );
  }

  private async row(tenantId: string, id: string): Promise<SegmentRow> {
    const [row] = await this.db.query(`SELECT * FROM segments WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    if (!row) throw notFound('segment', id);
    return row;
  }
}
