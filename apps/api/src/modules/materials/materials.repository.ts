import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { LibraryMaterialDto, MaterialFolderDto, MaterialStatsDto, MaterialUseDto } from './materials.dto';

export interface MaterialRow {
  id: string; tenant_id: string; idempotency_key: string | null; kind: LibraryMaterialDto['kind']; folder: string; title: string; summary: string;
  cover_url: string | null; url: string; tag_ids: string[]; created_at: Date; updated_at: Date;
}

/** What a create or an edit writes, in the columns' order (kind, folder, title, summary, cover_url, url, tag_ids). */
export type MaterialValues = [LibraryMaterialDto['kind'], string, string, string, string | null, string, string[]];

export interface MaterialFilter { folder?: string; kind?: string; like?: string; after?: [string, string] }

export interface MaterialPick { title: string; url: string; tagIds: string[] }

/** Each step of a definition (`d`) with its position, and each material it picks: `st.ord - 1` is the step index. */
const PICKS = (definition: string) => `
  CROSS JOIN LATERAL jsonb_array_elements(${definition} -> 'steps') WITH ORDINALITY st(step, ord)
  CROSS JOIN LATERAL jsonb_array_elements(st.step -> 'content' -> 'materials') pick(m)`;

/**
 * The material library: the `materials` rows, the API's one home for their SQL, with the statements that find which
 * SOPs pick a material (the working copies' and published versions' definitions) and how often the tasks that
 * carried it were opened (tasks, link_opens). Every statement is keyed by the caller's organization.
 */
@Injectable()
export class MaterialsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Inserts the material and returns it; undefined when the id is taken (a concurrent repeat, or another organization's id). */
  async insert(tenantId: string, id: string, idempotencyKey: string | null, values: MaterialValues, createdBy: string | null): Promise<MaterialRow | undefined> {
    const [row]: MaterialRow[] = await this.db.query(
      `INSERT INTO materials (id, tenant_id, idempotency_key, kind, folder, title, summary, cover_url, url, tag_ids, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING RETURNING *`,
      [id, tenantId, idempotencyKey, ...values, createdBy],
    );
    return row;
  }

  /** Up to `limit` materials newest first, after the cursor's (created_at, id) when there is one; `like` is an ILIKE pattern for titles and summaries. */
  page(tenantId: string, f: MaterialFilter, limit: number): Promise<MaterialRow[]> {
    const params: unknown[] = [tenantId];
    const p = (v: unknown) => `$${params.push(v)}`;
    const where = ['tenant_id = $1'];
    if (f.folder !== undefined) where.push(`folder = ${p(f.folder)}`);
    if (f.kind) where.push(`kind = ${p(f.kind)}`);
    if (f.like !== undefined) {
      const like = p(f.like);
      where.push(`(title ILIKE ${like} OR summary ILIKE ${like})`);
    }
    if (f.after) {
      const [at, id] = f.after;
      where.push(`(created_at, id) < (${p(at)}::timestamptz, ${p(id)}::uuid)`);
    }
    return this.db.query(
      `SELECT * FROM materials WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ${limit}`, params);
  }

  folders(tenantId: string): Promise<MaterialFolderDto[]> {
    return this.db.query(
      `SELECT folder AS name, count(*)::int AS materials FROM materials WHERE tenant_id = $1 GROUP BY folder ORDER BY folder`, [tenantId]);
  }

  async find(tenantId: string, id: string): Promise<MaterialRow | undefined> {
    const [row] = await this.db.query(`SELECT * FROM materials WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return row;
  }

  /** The material with this id, else the one created under this Idempotency-Key (the id's wins). */
  async findByIdOrKey(tenantId: string, id: string | null, idempotencyKey: string | null): Promise<MaterialRow | undefined> {
    const [row] = await this.db.query(
      `SELECT * FROM materials WHERE tenant_id = $1 AND (id = $2 OR idempotency_key = $3) ORDER BY id = $2 DESC LIMIT 1`,
      [tenantId, id, idempotencyKey]);
    return row;
  }

  async update(tenantId: string, id: string, values: MaterialValues): Promise<void> {
    await this.db.query(
      `UPDATE materials SET kind = $3, folder = $4, title = $5, summary = $6, cover_url = $7, url = $8, tag_ids = $9, updated_at = now()
        WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, ...values],
    );
  }

  async delete(tenantId: string, id: string): Promise<void> {
    await this.db.query(`DELETE FROM materials WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  }

  /** Whether the organization allows http material URLs, and which of the tag ids are its tags (one round trip for a save's checks). */
  async urlRuleAndTags(tenantId: string, tagIds: string[]): Promise<{ allow_http: boolean; tags: string[] }> {
    const [r] = await this.db.query(
      `SELECT (SELECT allow_http_materials FROM tenants WHERE id = $1) AS allow_http,
              ARRAY(SELECT id::text FROM tags WHERE tenant_id = $1 AND id = ANY($2::uuid[])) AS tags`,
      [tenantId, tagIds],
    );
    return r;
  }

  /** The SOPs not archived whose working copy picks the material, by name. */
  sopsPicking(tenantId: string, id: string): Promise<{ id: string; name: string }[]> {
    return this.db.query(
      `SELECT DISTINCT s.id, s.name FROM sops s ${PICKS('s.definition')}
        WHERE s.tenant_id = $1 AND s.status <> 'archived' AND pick.m ->> 'materialId' = $2 ORDER BY s.name`, [tenantId, id]);
  }

  /** The active or paused SOPs whose working copy picks the material and that may still publish (not a broadcast already sent), by name. */
  republishableSopsPicking(tenantId: string, id: string): Promise<{ id: string; name: string }[]> {
    return this.db.query(
      `SELECT DISTINCT s.id, s.name FROM sops s ${PICKS('s.definition')}
        WHERE s.tenant_id = $1 AND s.status IN ('active', 'paused') AND NOT (s.kind = 'broadcast' AND s.current_version IS NOT NULL)
          AND pick.m ->> 'materialId' = $2 ORDER BY s.name`, [tenantId, id]);
  }

  /** Every place the material is picked (each SOP's working copy, version null, and published versions, step by step) with the copy picked there. */
  uses(tenantId: string, id: string): Promise<(Omit<MaterialUseDto, 'current'> & { pick: MaterialPick })[]> {
    return this.db.query(
      `SELECT s.id AS "sopId", s.name AS "sopName", s.status AS "sopStatus", u.version, u.step_index AS "stepIndex", u.step_name AS "stepName", u.pick
         FROM (SELECT s.id AS sop_id, NULL::int AS version, (st.ord - 1)::int AS step_index, st.step ->> 'name' AS step_name, pick.m AS pick
                 FROM sops s ${PICKS('s.definition')} WHERE s.tenant_id = $1 AND pick.m ->> 'materialId' = $2
               UNION ALL
               SELECT v.sop_id, v.version, (st.ord - 1)::int, st.step ->> 'name', pick.m
                 FROM sop_versions v ${PICKS('v.definition')} WHERE v.tenant_id = $1 AND pick.m ->> 'materialId' = $2) u
         JOIN sops s ON s.id = u.sop_id AND s.tenant_id = $1
        ORDER BY s.name, s.id, u.version DESC NULLS FIRST, u.step_index`,
      [tenantId, id],
    );
  }

  /**
   * Per material: the SOPs that pick it, the tasks that carried it and their tracked-link opens. Tasks are read
   * by SOP (tasks_sop_idx) for the SOPs whose versions pick one of the materials, opens by task.
   */
  stats(tenantId: string, ids: string[]): Promise<(MaterialStatsDto & { id: string })[]> {
    return this.db.query(
      `WITH picked AS (
         SELECT DISTINCT pick.m ->> 'materialId' AS material_id, v.sop_id
           FROM sop_versions v ${PICKS('v.definition')}
          WHERE v.tenant_id = $1 AND pick.m ->> 'materialId' = ANY($2::text[])
         UNION
         SELECT pick.m ->> 'materialId', s.id FROM sops s ${PICKS('s.definition')}
          WHERE s.tenant_id = $1 AND s.status <> 'archived' AND pick.m ->> 'materialId' = ANY($2::text[])
       ), sent AS MATERIALIZED (
         SELECT carried.m ->> 'materialId' AS material_id, t.id AS task_id, (carried.ord - 1)::int AS idx, t.contact_id
           FROM tasks t CROSS JOIN LATERAL jsonb_array_elements(t.materials) WITH ORDINALITY carried(m, ord)
          WHERE t.tenant_id = $1 AND t.sop_id IN (SELECT sop_id FROM picked) AND carried.m ->> 'materialId' = ANY($2::text[])
       ), sends AS (
         SELECT material_id, count(*)::int AS n FROM sent GROUP BY 1
       ), opened AS (
         -- a mass-send's link (batch) counts its opens but names no contact: one link went to every customer of the template
         SELECT s.material_id, sum(o.opens)::int AS opens, count(DISTINCT s.contact_id) FILTER (WHERE NOT o.batch)::int AS contacts
           FROM sent s JOIN link_opens o ON o.task_id = s.task_id AND o.material_index = s.idx GROUP BY 1
       ), users AS (
         SELECT material_id, count(DISTINCT sop_id)::int AS n FROM picked GROUP BY 1
       )
       SELECT id, coalesce(users.n, 0) AS sops, coalesce(sends.n, 0) AS sent, coalesce(opened.opens, 0) AS opens,
              coalesce(opened.contacts, 0) AS "openedContacts"
         FROM unnest($2::text[]) AS id
         LEFT JOIN users ON users.material_id = id LEFT JOIN sends ON sends.material_id = id LEFT JOIN opened ON opened.material_id = id`,
      [tenantId, ids],
    );
  }
}
