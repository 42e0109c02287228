import { Inject, Injectable } from '@nestjs/common';
import { compileRule, referencedTags, type Rule, SqlParams, timeFields, UUID_PATTERN, validateRule } from '@sop/domain';
import type { Writable } from 'node:stream';
import { COMMON_ERRORS, fail, failAt, notFound } from '../../common/errors.catalog';
import { isQueryCanceled, taken, unlessTaken } from '../../common/postgres-errors';
import type { Principal } from '../../common/principal';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import type { CreateSegmentDto, MemberDto, MemberPageDto, PreviewDto, SegmentDto, UpdateSegmentDto } from './segments.dto';
import { SEGMENTS_ERRORS } from './segments.errors';
import { type CompiledRule, type MemberRow, type SampleCount, type SegmentRow, SegmentsRepository, type TimedReads } from './segments.repository';

const toSegmentDto = (r: SegmentRow): SegmentDto => ({
  id: r.id, name: r.name, description: r.description, rule: r.rule, createdAt: r.created_at, updatedAt: r.updated_at,
});
const toMemberDto = (r: MemberRow): MemberDto => ({ id: r.id, externalId: r.external_id, name: r.name, ownerId: r.owner_id });

const exactPreview = (count: number, first: MemberRow[]): PreviewDto => ({ count, estimated: false, margin: 0, sample: first.map(toMemberDto) });

const nameTaken = (name: string) => () => taken(SEGMENTS_ERRORS.SEGMENT_NAME_TAKEN, `A segment named "${name}" already exists.`, 'name');

const SAMPLE = 20;
const ID_PAGE = 5000;
/**
 * Fewer of the caller's contacts than this in a preview's sample: the organization is small next to the table, its
 * estimate would be coarse, and its exact count is quick (its contacts are few), so the preview counts exactly.
 */
export const MIN_SAMPLED_CONTACTS = 1000;
/** The estimate's margin: this many standard errors, about 99% confidence (normal approximation). */
const Z_99 = 2.576;

/**
 * The estimate of a count from a page sample (Horvitz-Thompson: every page is taken with probability p, so
 * hits / p is unbiased), with its margin from the variance over pages, (1 - p) / p^2 * sum of squared hits per
 * sampled page. At least three hits' worth of variance, so that no hit found still gives a margin (the rule of
 * three). Both rounded to two significant figures of the margin: the figures below it mean nothing.
 */
export function estimateFromSample(s: Pick<SampleCount, 'fraction' | 'hits' | 'hitsSquared'>): { count: number; margin: number } {
  const p = s.fraction;
  const estimate = s.hits / p;
  const margin = (Z_99 * Math.sqrt(Math.max(s.hitsSquared, 3) * (1 - p))) / p;
  const unit = 10 ** Math.max(0, Math.floor(Math.log10(Math.max(margin, 1))) - 1);
  return { count: Math.round(estimate / unit) * unit, margin: Math.ceil(margin / unit) * unit };
}

@Injectable()
export class SegmentsService {
  private readonly limits: AppConfig['segments'];

  constructor(private readonly segments: SegmentsRepository, @Inject(APP_CONFIG) config: AppConfig) {
    this.limits = config.segments;
  }

  /**
   * Validates a rule against the tenant's tags (errors name the JSON path) and compiles it to SQL. A new
   * or changed rule (`budget`) must also plan within the cost budget: the engine evaluates saved rules on
   * every change, and previews run as the user types.
   */
  async compile(tenantId: string, input: unknown, { now = new Date(), budget = true } = {}): Promise<{ rule: Rule; compiled: CompiledRule; cost?: number }> {
    const tagNums = await this.segments.tagNums(tenantId);
    const rule = validateRule(input, { tagNums, root: 'rule' });
    const params = new SqlParams(2);
    const where = compileRule(rule, { tagNums, now, params });
    const compiled = { where, params: [tenantId, ...params.values] };
    const cost = budget ? await this.withinBudget(compiled) : undefined;
    return { rule, compiled, cost };
  }

  /** Refuses a rule whose count Postgres plans above the cost budget (EXPLAIN's total cost, in its own units); answers the cost. */
  private async withinBudget(compiled: CompiledRule): Promise<number> {
    const cost = await this.segments.plannedCost(compiled);
    if (cost > this.limits.costBudget) {
      throw fail(SEGMENTS_ERRORS.SEGMENT_TOO_EXPENSIVE,
        `This rule is planned at cost ${Math.round(cost)}, over the budget of ${this.limits.costBudget}: ${SEGMENTS_ERRORS.SEGMENT_TOO_EXPENSIVE.message}`,
        [{ path: 'rule', problem: `planned cost ${Math.round(cost)} is over the budget of ${this.limits.costBudget}` }]);
    }
    return cost;
  }

  /**
   * Runs a preview's or a page's reads in one transaction under a statement timeout: a rule that runs
   * longer is stopped and answered 422 SEGMENT_TOO_EXPENSIVE rather than holding a connection and a core.
   */
  private async timed<T>(read: (reads: TimedReads) => Promise<T>): Promise<T> {
    try {
      return await this.segments.underTimeout(this.limits.timeoutMs, read);
    } catch (err) {
      if (isQueryCanceled(err)) {
        throw fail(SEGMENTS_ERRORS.SEGMENT_TOO_EXPENSIVE,
          `This rule ran longer than ${this.limits.timeoutMs / 1000} s and was stopped: ${SEGMENTS_ERRORS.SEGMENT_TOO_EXPENSIVE.message}`,
          [{ path: 'rule', problem: `ran longer than ${this.limits.timeoutMs} ms` }]);
      }
      throw err;
    }
  }

  /**
   * The rule's count and first members, exact when that is quick: the count runs under a short budget
   * (SEGMENT_EXACT_COUNT_MS), or not at all when its planned cost is over SEGMENT_EXACT_COUNT_COST. Otherwise the
   * count is estimated from a sample of about SEGMENT_SAMPLE_ROWS contacts, with its margin, and the members shown
   * are some the sample found. An organization with few contacts in the sample (small next to the table) is
   * counted exactly after all, under the preview's whole timeout: its count is quick. See docs/segments.md.
   */
  async preview(tenantId: string, input: unknown): Promise<PreviewDto> {
    const { compiled, cost } = await this.compile(tenantId, input);
    const { exactCountMs, exactCountCost, sampleRows } = this.limits;
    // all under the statement timeout (timed): a rule that runs too long answers 422 SEGMENT_TOO_EXPENSIVE
    return this.timed(async (r) => {
      const quick = cost !== undefined && cost <= exactCountCost ? await r.exactCount(compiled, SAMPLE, exactCountMs) : undefined;
      if (quick) return exactPreview(quick.count, quick.first);
      const sample = await r.sampleCount(compiled, sampleRows, SAMPLE);
      if (sample.fraction >= 1) return exactPreview(sample.hits, sample.first); // the whole table was read
      if (sample.sampled < MIN_SAMPLED_CONTACTS) {
        const exact = (await r.exactCount(compiled, SAMPLE))!;
        return exactPreview(exact.count, exact.first);
      }
      const { count, margin } = estimateFromSample(sample);
      return { count, estimated: true, margin, sample: sample.first.map(toMemberDto) };
    });
  }

  async create(caller: Principal, dto: CreateSegmentDto): Promise<SegmentDto> {
    const { rule } = await this.compile(caller.tenantId, dto.rule);
    const row = await unlessTaken('segments_tenant_name_key', nameTaken(dto.name), () => this.segments.insert(caller.tenantId, dto.name.trim(), {
      description: dto.description ?? '', rule, tagIds: referencedTags(rule), timeFields: timeFields(rule),
    }, caller.userId));
    return toSegmentDto(row);
  }

  async list(tenantId: string): Promise<SegmentDto[]> {
    return (await this.segments.list(tenantId)).map(toSegmentDto);
  }

  async get(tenantId: string, id: string): Promise<SegmentDto> {
    return toSegmentDto(await this.row(tenantId, id));
  }

  async update(tenantId: string, id: string, dto: UpdateSegmentDto): Promise<SegmentDto> {
    const current = await this.row(tenantId, id);
    const rule = dto.rule === undefined ? current.rule : (await this.compile(tenantId, dto.rule)).rule;
    const name = dto.name?.trim() ?? current.name;
    const row = await unlessTaken('segments_tenant_name_key', nameTaken(dto.name ?? current.name), () => this.segments.update(tenantId, id, name, {
      description: dto.description ?? current.description, rule, tagIds: referencedTags(rule as Rule), timeFields: timeFields(rule as Rule),
    }, dto.rule !== undefined));
    return toSegmentDto(row);
  }

  async remove(tenantId: string, id: string): Promise<void> {
    const sops = await this.segments.sopsUsing(tenantId, id);
    if (sops.length) {
      throw fail(SEGMENTS_ERRORS.SEGMENT_IN_USE, `In use by ${sops.map((s) => `SOP "${s.name}"`).join(', ')}. Change or archive them first.`,
        sops.map((s) => ({ path: `sops/${s.id}`, problem: `SOP "${s.name}" targets it`, kind: 'sop' as const, name: s.name })));
    }
    if (!(await this.segments.delete(tenantId, id))) throw notFound('segment', id);
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
    const rows = await this.timed((r) => r.page(compiled, limit + 1, after));
    const items = rows.slice(0, limit).map(toMemberDto);
    return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
  }

  async isMember(tenantId: string, id: string, contactId: string): Promise<boolean> {
    const member = await this.segments.isMember(await this.compileSaved(tenantId, id), contactId);
    if (member === undefined) throw notFound('contact', contactId);
    return member;
  }

  /** Streams every member as CSV, from one snapshot (see the repository). */
  exportCsv(compiled: CompiledRule, out: Writable): Promise<void> {
    return this.segments.exportCsv(compiled, out);
  }

  /** Every current member's id, in keyset pages of ID_PAGE: for bulk actions on a whole segment. */
  async *memberIds(tenantId: string, id: string): AsyncGenerator<string[]> {
    const compiled = await this.compileSaved(tenantId, id);
    let after: string | undefined;
    for (;;) {
      const rows = await this.segments.page(compiled, ID_PAGE, after);
      if (rows.length) yield rows.map((r) => r.id);
      if (rows.length < ID_PAGE) return;
      after = rows[rows.length - 1].id;
    }
  }

  private async row(tenantId: string, id: string): Promise<SegmentRow> {
    const row = await this.segments.find(tenantId, id);
    if (!row) throw notFound('segment', id);
    return row;
  }
}
