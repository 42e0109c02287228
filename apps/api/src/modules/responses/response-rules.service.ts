import { Injectable } from '@nestjs/common';
import { type ErrorDetail } from '@sop/domain';
import { fail, notFound } from '../../common/errors.catalog';
import { taken, unlessTaken } from '../../common/postgres-errors';
import type { ResponseRuleDto, ResponseRuleWhenDto, SaveResponseRuleDto } from './response-rules.dto';
import { TagsRepository } from '../tags/tags.repository';
import { type ResponseRuleRow, ResponseRulesRepository } from './response-rules.repository';
import { RESPONSES_ERRORS } from './responses.errors';

const toDto = (r: ResponseRuleRow): ResponseRuleDto => ({
  id: r.id, name: r.name, enabled: r.enabled,
  when: dropNulls({ kind: r.kind, outcome: r.outcome, sopId: r.sop_id, stepIndex: r.step_index, material: r.material,
    eventName: r.event_name, minAmount: r.min_amount === null ? null : Number(r.min_amount) }) as unknown as ResponseRuleWhenDto,
  then: dropNulls({ addTagIds: r.add_tag_ids, weight: r.weight === null ? null : Number(r.weight), removeTagIds: r.remove_tag_ids }),
  createdAt: r.created_at, updatedAt: r.updated_at,
});

const dropNulls = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null));

/** Conditions that only make sense for one kind of response. */
const ONLY_FOR: [keyof ResponseRuleWhenDto, string][] = [['outcome', 'outcome'], ['material', 'opened'], ['eventName', 'custom'], ['minAmount', 'bought']];

const nameTaken = (name: string) => () => taken(RESPONSES_ERRORS.RESPONSE_RULE_NAME_TAKEN, `A response rule named "${name}" already exists.`, 'name');

/** Per-tenant rules that turn responses into behaviour tags (applied by libs/engine `recordResponse`). */
@Injectable()
export class ResponseRulesService {
  constructor(
    private readonly rules: ResponseRulesRepository,
    private readonly tags: TagsRepository,
  ) {}

  async list(tenantId: string): Promise<ResponseRuleDto[]> {
    return (await this.rules.list(tenantId)).map(toDto);
  }

  async get(tenantId: string, id: string): Promise<ResponseRuleDto> {
    const row = await this.rules.find(tenantId, id);
    if (!row) throw notFound('response rule', id);
    return toDto(row);
  }

  async save(tenantId: string, dto: SaveResponseRuleDto, id?: string): Promise<ResponseRuleDto> {
    await this.validate(tenantId, dto);
    const { when: w, then: t } = dto;
    const add = [...new Set(t.addTagIds ?? [])];
    const remove = [...new Set(t.removeTagIds ?? [])];
    const fields = {
      name: dto.name.trim(), enabled: dto.enabled ?? true, kind: w.kind, outcome: w.outcome ?? null, sopId: w.sopId ?? null, stepIndex: w.stepIndex ?? null,
      material: w.material ?? null, eventName: w.eventName ?? null, minAmount: w.minAmount ?? null, addTagIds: add, weight: t.weight ?? null,
      removeTagIds: remove, tagIds: [...new Set([...add, ...remove])],
    };
    const row = await unlessTaken('response_rules_tenant_name_key', nameTaken(dto.name.trim()), () =>
      id ? this.rules.update(tenantId, id, fields) : this.rules.insert(tenantId, fields));
    if (!row) throw notFound('response rule', id!);
    return toDto(row);
  }

  async remove(tenantId: string, id: string): Promise<void> {
    if (!(await this.rules.delete(tenantId, id))) throw notFound('response rule', id);
  }

  /** 422 RESPONSE_RULE_INVALID naming every problem's path: unknown SOPs, steps and tags, conditions of another kind. */
  private async validate(tenantId: string, dto: SaveResponseRuleDto): Promise<void> {
    const { when: w, then: t } = dto;
    const details: ErrorDetail[] = [];
    for (const [field, kind] of ONLY_FOR) {
      if (w[field] !== undefined && w.kind !== kind) details.push({ path: `when.${field}`, problem: `applies only to kind "${kind}"` });
    }
    if (w.stepIndex !== undefined && !w.sopId) details.push({ path: 'when.stepIndex', problem: 'needs when.sopId' });
    if (w.sopId) details.push(...(await this.sopProblems(tenantId, w.sopId, w.stepIndex)));
    details.push(...(await this.tagProblems(tenantId, t.addTagIds ?? [], t.removeTagIds ?? [])));
    if (!t.addTagIds?.length && !t.removeTagIds?.length) details.push({ path: 'then', problem: 'add or remove at least one tag' });
    if (t.weight !== undefined && !t.addTagIds?.length) details.push({ path: 'then.weight', problem: 'weighs added tags: needs then.addTagIds' });
    if (details.length) throw fail(RESPONSES_ERRORS.RESPONSE_RULE_INVALID, 'The response rule cannot be saved as it is.', details);
  }

  private async sopProblems(tenantId: string, sopId: string, stepIndex?: number): Promise<ErrorDetail[]> {
    const definition = await this.rules.liveSopDefinition(tenantId, sopId);
    if (!definition) return [{ path: 'when.sopId', problem: 'no such SOP (or it is archived)' }];
    const steps = definition.steps?.length ?? 0;
    return stepIndex !== undefined && stepIndex >= steps ? [{ path: 'when.stepIndex', problem: `the SOP has ${steps} step(s): 0 to ${steps - 1}` }] : [];
  }

  private async tagProblems(tenantId: string, add: string[], remove: string[]): Promise<ErrorDetail[]> {
    const tags = await this.tags.tagsWithGroups(tenantId, [...add, ...remove]);
    const known = new Map(tags.map((x) => [x.id, x]));
    const details: ErrorDetail[] = [];
    const exclusive = new Set<string>();
    add.forEach((id, i) => {
      const tag = known.get(id);
      if (!tag) return details.push({ path: `then.addTagIds[${i}]`, problem: 'no such tag' });
      if (remove.includes(id)) details.push({ path: `then.addTagIds[${i}]`, problem: 'is also in then.removeTagIds' });
      if (tag.exclusive && exclusive.has(tag.group_id)) {
        details.push({ path: `then.addTagIds[${i}]`, problem: `a second tag of the exclusive group "${tag.group_name}"` });
      }
      if (tag.exclusive) exclusive.add(tag.group_id);
    });
    remove.forEach((id, i) => {
      if (!known.has(id)) details.push({ path: `then.removeTagIds[${i}]`, problem: 'no such tag' });
    });
    return details;
  }
}
