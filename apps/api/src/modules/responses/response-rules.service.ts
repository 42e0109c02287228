import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type ErrorDetail, type SopDefinition } from '@sop/domain';
import { DataSource } from 'typeorm';
import { fail, notFound } from '../../common/errors.catalog';
import { taken, unlessTaken } from '../../common/postgres-errors';
import type { ResponseRuleDto, ResponseRuleWhenDto, SaveResponseRuleDto } from './response-rules.dto';
import { RESPONSES_ERRORS } from './responses.errors';

interface Row {
  id: string; name: string; enabled: boolean; kind: string; outcome: string | null; sop_id: string | null; step_index: number | null;
  material: string | null; event_name: string | null; min_amount: string | null; add_tag_ids: string[]; weight: string | null;
  remove_tag_ids: string[]; created_at: Date; updated_at: Date;
}

const toDto = (r: Row): ResponseRuleDto => ({
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
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async list(tenantId: string): Promise<ResponseRuleDto[]> {
    return (await this.db.query(`SELECT * FROM response_rules WHERE tenant_id = $1 ORDER BY created_at, id`, [tenantId])).map(toDto);
  }

  async get(tenantId: string, id: string): Promise<ResponseRuleDto> {
    const [row] = await this.db.query(`SELECT * FROM response_rules WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    if (!row) throw notFound('response rule', id);
    return toDto(row);
  }

  async save(tenantId: string, dto: SaveResponseRuleDto, id?: string): Promise<ResponseRuleDto> {
    await this.validate(tenantId, dto);
    const { when: w, then: t } = dto;
    const add = [...new Set(t.addTagIds ?? [])];
    const remove = [...new Set(t.removeTagIds ?? [])];
    const values = [tenantId, dto.name.trim(), dto.enabled ?? true, w.kind, w.outcome ?? null, w.sopId ?? null, w.stepIndex ?? null,
      w.material ?? null, w.eventName ?? null, w.minAmount ?? null, add, t.weight ?? null, remove, [...new Set([...add, ...remove])]];
    const rows: Row[] | [Row[], number] = await unlessTaken('response_rules_tenant_name_key', nameTaken(dto.name.trim()), () => id
      ? this.db.query(
        `UPDATE response_rules SET name = $2, enabled = $3, kind = $4, outcome = $5, sop_id = $6, step_index = $7, material = $8,
                event_name = $9, min_amount = $10, add_tag_ids = $11, weight = $12, remove_tag_ids = $13, tag_ids = $14, updated_at = now()
          WHERE tenant_id = $1 AND id = $15 RETURNING *`, [...values, id])
      : this.db.query(
        `INSERT INTO response_rules (tenant_id, name, enabled, kind, outcome, sop_id, step_index, material, event_name, min_amount,
                                     add_tag_ids, weight, remove_tag_ids, tag_ids)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING *`, values));
    const row = id ? (rows as [Row[], number])[0][0] : (rows as Row[])[0];
    if (!row) throw notFound('response rule', id!);
    return toDto(row);
  }

  async remove(tenantId: string, id: string): Promise<void> {
    const [, count] = await this.db.query(`DELETE FROM response_rules WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    if (!count) throw notFound('response rule', id);
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
    const [sop]: { definition: SopDefinition }[] = await this.db.query(
      `SELECT definition FROM sops WHERE tenant_id = $1 AND id = $2 AND status <> 'archived'`, [tenantId, sopId]);
    if (!sop) return [{ path: 'when.sopId', problem: 'no such SOP (or it is archived)' }];
    const steps = sop.definition.steps?.length ?? 0;
    return stepIndex !== undefined && stepIndex >= steps ? [{ path: 'when.stepIndex', problem: `the SOP has ${steps} step(s): 0 to ${steps - 1}` }] : [];
  }

  private async tagProblems(tenantId: string, add: string[], remove: string[]): Promise<ErrorDetail[]> {
    const tags: { id: string; group_id: string; group_name: string; exclusive: boolean }[] = await this.db.query(
      `SELECT t.id, t.group_id, g.name AS group_name, g.exclusive FROM tags t JOIN tag_groups g ON g.id = t.group_id
        WHERE t.tenant_id = $1 AND t.id = ANY($2::uuid[])`, [tenantId, [...add, ...remove]]);
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
