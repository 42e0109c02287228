import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { SopDefinition } from '@sop/domain';
import { DataSource } from 'typeorm';

export interface ResponseRuleRow {
  id: string; name: string; enabled: boolean; kind: string; outcome: string | null; sop_id: string | null; step_index: number | null;
  material: string | null; event_name: string | null; min_amount: string | null; add_tag_ids: string[]; weight: string | null;
  remove_tag_ids: string[]; created_at: Date; updated_at: Date;
}

/** The columns a save writes, in the order of the statements' parameters $2 to $14. */
export interface ResponseRuleFields {
  name: string; enabled: boolean; kind: string; outcome: string | null; sopId: string | null; stepIndex: number | null;
  material: string | null; eventName: string | null; minAmount: number | null; addTagIds: string[]; weight: number | null;
  removeTagIds: string[]; tagIds: string[];
}

const values = (tenantId: string, r: ResponseRuleFields) => [tenantId, r.name, r.enabled, r.kind, r.outcome, r.sopId, r.stepIndex,
  r.material, r.eventName, r.minAmount, r.addTagIds, r.weight, r.removeTagIds, r.tagIds];

/**
 * The `response_rules` rows: the API's one home for that SQL (libs/engine `recordResponse` applies them), with the read
 * of the SOP a rule names (the sops module has no repository yet). Every statement is keyed by the caller's organization.
 */
@Injectable()
export class ResponseRulesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Oldest first. */
  list(tenantId: string): Promise<ResponseRuleRow[]> {
    return this.db.query(`SELECT * FROM response_rules WHERE tenant_id = $1 ORDER BY created_at, id`, [tenantId]);
  }

  async find(tenantId: string, id: string): Promise<ResponseRuleRow | undefined> {
    const [row] = await this.db.query(`SELECT * FROM response_rules WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return row;
  }

  async insert(tenantId: string, r: ResponseRuleFields): Promise<ResponseRuleRow> {
    const rows: ResponseRuleRow[] = await this.db.query(
      `INSERT INTO response_rules (tenant_id, name, enabled, kind, outcome, sop_id, step_index, material, event_name, min_amount,
                                     add_tag_ids, weight, remove_tag_ids, tag_ids)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING *`, values(tenantId, r));
    return rows[0];
  }

  /** The rule as saved; undefined when the organization has no such rule. */
  async update(tenantId: string, id: string, r: ResponseRuleFields): Promise<ResponseRuleRow | undefined> {
    const [rows]: [ResponseRuleRow[], number] = await this.db.query(
      `UPDATE response_rules SET name = $2, enabled = $3, kind = $4, outcome = $5, sop_id = $6, step_index = $7, material = $8,
                event_name = $9, min_amount = $10, add_tag_ids = $11, weight = $12, remove_tag_ids = $13, tag_ids = $14, updated_at = now()
          WHERE tenant_id = $1 AND id = $15 RETURNING *`, [...values(tenantId, r), id]);
    return rows[0];
  }

  /** Whether there was one to delete. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const [, count] = await this.db.query(`DELETE FROM response_rules WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return !!count;
  }

  /** The definition of the organization's SOP, unless it is archived. */
  async liveSopDefinition(tenantId: string, sopId: string): Promise<SopDefinition | undefined> {
    const [sop]: { definition: SopDefinition }[] = await this.db.query(
      `SELECT definition FROM sops WHERE tenant_id = $1 AND id = $2 AND status <> 'archived'`, [tenantId, sopId]);
    return sop?.definition;
  }
}
