import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queryable } from '@sop/engine';
import { DataSource } from 'typeorm';
import type { ComputedTagRuleDto } from './computed-tags.dto';

export interface ComputedTagRuleRow { id: string; name: string; group_id: string; cases: ComputedTagRuleDto['cases'] }

export interface ComputedTagRuleFields { name: string; groupId: string; cases: unknown; tagIds: string[] }

/**
 * The `computed_tag_rules` rows: the API's one home for that SQL (the engine's `applyComputedTags` applies them).
 * Every statement is keyed by the caller's organization; those that run in the caller's transaction take its manager.
 */
@Injectable()
export class ComputedTagsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** By name. */
  list(tenantId: string): Promise<ComputedTagRuleRow[]> {
    return this.db.query(`SELECT * FROM computed_tag_rules WHERE tenant_id = $1 ORDER BY name`, [tenantId]);
  }

  async insert(m: Queryable, tenantId: string, r: ComputedTagRuleFields): Promise<ComputedTagRuleRow> {
    const [row] = await m.query(
      `INSERT INTO computed_tag_rules (tenant_id, name, group_id, cases, tag_ids) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [tenantId, r.name, r.groupId, JSON.stringify(r.cases), r.tagIds],
    );
    return row;
  }

  /** The rule as saved; undefined when the organization has no such rule. */
  async update(m: Queryable, tenantId: string, id: string, r: ComputedTagRuleFields): Promise<ComputedTagRuleRow | undefined> {
    const [[row]] = await m.query(
      `UPDATE computed_tag_rules SET name = $3, group_id = $4, cases = $5, tag_ids = $6, updated_at = now()
          WHERE tenant_id = $1 AND id = $2 RETURNING *`,
      [tenantId, id, r.name, r.groupId, JSON.stringify(r.cases), r.tagIds],
    );
    return row;
  }

  /** Whether there was one to delete. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const [, count] = await this.db.query(`DELETE FROM computed_tag_rules WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return !!count;
  }
}
