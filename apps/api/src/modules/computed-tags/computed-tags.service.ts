import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AppError, type ErrorDetail, referencedTags, type Rule, validateRule } from '@sop/domain';
import { applyComputedTags, evaluateMemberships } from '@sop/engine';
import { DataSource, type EntityManager } from 'typeorm';
import { COMMON_ERRORS, fail, notFound } from '../../common/errors.catalog';
import { unlessTaken } from '../../common/postgres-errors';
import type { ComputedTagRuleDto, CreateComputedTagRuleDto } from './computed-tags.dto';
import { COMPUTED_TAGS_ERRORS } from './computed-tags.errors';
import { type ComputedTagRuleRow as Row, ComputedTagsRepository } from './computed-tags.repository';
import { TagsRepository } from '../tags/tags.repository';

const groupHasRule = () =>
  fail(COMPUTED_TAGS_ERRORS.GROUP_HAS_RULE, undefined, [{ path: 'groupId', problem: 'already has a rule' }]);
const toDto = (r: Row, changedContacts?: number): ComputedTagRuleDto => ({ id: r.id, name: r.name, groupId: r.group_id, cases: r.cases, changedContacts });

/** Rules that keep a tag group in line with contacts' data: spend tiers, RFM scores, lifecycle. */
@Injectable()
export class ComputedTagsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly rules: ComputedTagsRepository,
    private readonly tags: TagsRepository,
  ) {}

  async list(tenantId: string): Promise<ComputedTagRuleDto[]> {
    return (await this.rules.list(tenantId)).map((r) => toDto(r));
  }

  /** Saves the rule and applies it to every contact in the same transaction. */
  async save(tenantId: string, dto: CreateComputedTagRuleDto, id?: string): Promise<ComputedTagRuleDto> {
    const cases = await this.validate(tenantId, dto);
    return this.db.transaction(async (m) => {
      const row = await this.store(m, tenantId, dto, cases, id);
      const changed = await applyComputedTags(m, tenantId, null, new Date(), row.id);
      for (let i = 0; i < changed.length; i += 5000) await evaluateMemberships(m, tenantId, changed.slice(i, i + 5000));
      return toDto(row, changed.length);
    });
  }

  /** Deleting a rule stops recomputation; the tags it gave stay until changed. */
  async remove(tenantId: string, id: string): Promise<void> {
    if (!(await this.rules.delete(tenantId, id))) throw notFound('computed tag rule', id);
  }

  private async store(m: EntityManager, tenantId: string, dto: CreateComputedTagRuleDto, cases: { tagId: string; when: Rule }[], id?: string): Promise<Row> {
    // Every tag the rule gives or looks at: deleting any of them is refused while the rule exists.
    const tagIds = [...new Set(cases.flatMap((c) => [c.tagId, ...referencedTags(c.when)]))];
    return unlessTaken('computed_tag_rules_group_key', groupHasRule, async () => {
      const fields = { name: dto.name.trim(), groupId: dto.groupId, cases, tagIds };
      if (!id) return this.rules.insert(m, tenantId, fields);
      const row = await this.rules.update(m, tenantId, id, fields);
      if (!row) throw notFound('computed tag rule', id);
      return row;
    });
  }

  private async validate(tenantId: string, dto: CreateComputedTagRuleDto) {
    const exclusive = await this.tags.groupExclusive(tenantId, dto.groupId);
    const details: ErrorDetail[] = [];
    if (exclusive === undefined) details.push({ path: 'groupId', problem: 'no such tag group' });
    else if (!exclusive) details.push({ path: 'groupId', problem: 'must be an exclusive group (one computed tag per contact)' });
    const tags = await this.tags.tagNums(tenantId);
    const tagNums = new Map(tags.map((t) => [t.id, t.num]));
    const inGroup = new Set(tags.filter((t) => t.group_id === dto.groupId).map((t) => t.id));
    const cases: { tagId: string; when: Rule }[] = [];
    dto.cases.forEach((c, i) => {
      if (!inGroup.has(c.tagId)) details.push({ path: `cases[${i}].tagId`, problem: 'must be a tag of the rule\'s group' });
      try {
        cases.push({ tagId: c.tagId, when: validateRule(c.when, { tagNums, root: `cases[${i}].when` }) });
      } catch (err) {
        details.push(...((err as AppError).details ?? []));
      }
    });
    if (details.length) throw fail(COMMON_ERRORS.VALIDATION_FAILED, 'The computed tag rule cannot be saved as it is.', details, 422);
    return cases;
  }
}
