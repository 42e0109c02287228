import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AppError, type ErrorDetail, materialUrlSchema } from '@sop/domain';
import type { Queryable } from '@sop/engine';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { COMMON_ERRORS, fail } from '../../common/errors.catalog';
import { decodeCursor, encodeCursor } from '../../common/pagination';
import type { Principal } from '../../common/principal';
import { SopsService } from '../sops/sops.service';
import type {
  CreateMaterialDto, LibraryMaterialDetailDto, LibraryMaterialDto, MaterialFolderDto, MaterialInputDto, LibraryMaterialPageDto, MaterialQuery, MaterialStatsDto,
  LibraryMaterialUpdatedDto, MaterialUseDto, NotRepublishedDto, RepublishedDto,
} from './materials.dto';
import { MATERIALS_ERRORS } from './materials.errors';

interface MaterialRow {
  id: string; tenant_id: string; idempotency_key: string | null; kind: LibraryMaterialDto['kind']; folder: string; title: string; summary: string;
  cover_url: string | null; url: string; tag_ids: string[]; created_at: Date; updated_at: Date;
}

const NO_STATS: MaterialStatsDto = { sops: 0, sent: 0, opens: 0, openedContacts: 0 };

const toDto = (r: MaterialRow, stats: MaterialStatsDto = NO_STATS): LibraryMaterialDto => ({
  id: r.id, kind: r.kind, folder: r.folder, title: r.title, summary: r.summary, coverUrl: r.cover_url, url: r.url, tagIds: r.tag_ids,
  stats, createdAt: r.created_at, updatedAt: r.updated_at,
});

/** Each step of a definition (`d`) with its position, and each material it picks: `st.ord - 1` is the step index. */
const PICKS = (definition: string) => `
  CROSS JOIN LATERAL jsonb_array_elements(${definition} -> 'steps') WITH ORDINALITY st(step, ord)
  CROSS JOIN LATERAL jsonb_array_elements(st.step -> 'content' -> 'materials') pick(m)`;

/**
 * The material library: reusable content a step picks by id. A definition carries a copy of what it picks
 * (SopsService.check copies the library's title, URL and tags in at every save and publish), so published
 * versions never change; editing a material can publish new versions of the SOPs that pick it, on request.
 */
@Injectable()
export class MaterialsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly sops: SopsService,
  ) {}

  /** A repeated id or Idempotency-Key answers the first material (created false); a different one under it is 409. */
  async create(caller: Principal, dto: CreateMaterialDto, idempotencyKey?: string): Promise<{ created: boolean; material: LibraryMaterialDto }> {
    const key = idempotencyKey?.trim() || null;
    await this.checkInput(caller.tenantId, dto);
    const earlier = await this.earlier(caller.tenantId, dto.id, key);
    if (earlier) return { created: false, material: this.sameRequest(earlier, dto, key) };
    const [row]: MaterialRow[] = await this.db.query(
      `INSERT INTO materials (id, tenant_id, idempotency_key, kind, folder, title, summary, cover_url, url, tag_ids, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING RETURNING *`,
      [dto.id ?? randomUUID(), caller.tenantId, key, ...this.values(dto), caller.userId ?? null],
    );
    if (row) return { created: true, material: toDto(row) };
    const raced = await this.earlier(caller.tenantId, dto.id, key); // a concurrent repeat committed first, or another tenant's id
    if (!raced) throw fail(MATERIALS_ERRORS.MATERIAL_ID_REUSED, 'id: already taken; send a new one', [{ path: 'id', problem: 'already taken' }]);
    return { created: false, material: this.sameRequest(raced, dto, key) };
  }

  /** Newest first in keyset pages; `q` looks in titles and summaries. Each with where it is used and how often it was opened. */
  async list(tenantId: string, q: MaterialQuery): Promise<LibraryMaterialPageDto> {
    const params: unknown[] = [tenantId];
    const p = (v: unknown) => `$${params.push(v)}`;
    const where = ['tenant_id = $1'];
    if (q.folder !== undefined) where.push(`folder = ${p(q.folder.trim())}`);
    if (q.kind) where.push(`kind = ${p(q.kind)}`);
    if (q.q?.trim()) {
      const like = p(`%${q.q.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(`(title ILIKE ${like} OR summary ILIKE ${like})`);
    }
    if (q.cursor) {
      const [at, id] = decodeCursor(q.cursor);
      where.push(`(created_at, id) < (${p(at)}::timestamptz, ${p(id)}::uuid)`);
    }
    const rows: MaterialRow[] = await this.db.query(
      `SELECT * FROM materials WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ${q.limit + 1}`, params);
    const page = rows.slice(0, q.limit);
    const stats = await this.stats(this.db, tenantId, page.map((r) => r.id));
    const items = page.map((r) => toDto(r, stats.get(r.id)));
    const last = rows.length > q.limit ? items[items.length - 1] : undefined;
    return { items, nextCursor: last ? encodeCursor(last.createdAt, last.id) : null };
  }

  async folders(tenantId: string): Promise<MaterialFolderDto[]> {
    return this.db.query(
      `SELECT folder AS name, count(*)::int AS materials FROM materials WHERE tenant_id = $1 GROUP BY folder ORDER BY folder`, [tenantId]);
  }

  /** With where it is used when `withUsage` (admins and ops: which SOPs exist is theirs to see). */
  async get(tenantId: string, id: string, withUsage: boolean): Promise<LibraryMaterialDetailDto> {
    const row = await this.row(this.db, tenantId, id);
    const [stats, usage] = await Promise.all([this.stats(this.db, tenantId, [id]), withUsage ? this.usage(this.db, tenantId, id) : undefined]);
    return { ...toDto(row, stats.get(id)), ...(usage ? { usage } : {}) };
  }

  /**
   * Replaces the material. SOPs keep what they were published with; with `republish`, each active or paused SOP
   * whose working copy picks it publishes a new version (the SOP module's own edit, which copies the new content in).
   */
  async update(caller: Principal, id: string, dto: MaterialInputDto, republish = false): Promise<LibraryMaterialUpdatedDto> {
    await this.row(this.db, caller.tenantId, id);
    await this.checkInput(caller.tenantId, dto);
    await this.db.query(
      `UPDATE materials SET kind = $3, folder = $4, title = $5, summary = $6, cover_url = $7, url = $8, tag_ids = $9, updated_at = now()
        WHERE tenant_id = $1 AND id = $2`,
      [caller.tenantId, id, ...this.values(dto)],
    );
    const { republished, notRepublished } = republish ? await this.republish(caller, id) : { republished: [], notRepublished: [] };
    return { ...(await this.get(caller.tenantId, id, true)), republished, notRepublished };
  }

  /** Refused while an SOP that is not archived picks it in its working copy: published versions carry their own copy. */
  async remove(tenantId: string, id: string): Promise<void> {
    await this.row(this.db, tenantId, id);
    const users: { id: string; name: string }[] = await this.db.query(
      `SELECT DISTINCT s.id, s.name FROM sops s ${PICKS('s.definition')}
        WHERE s.tenant_id = $1 AND s.status <> 'archived' AND pick.m ->> 'materialId' = $2 ORDER BY s.name`, [tenantId, id]);
    if (users.length) {
      throw fail(MATERIALS_ERRORS.MATERIAL_IN_USE, `Picked by ${users.map((u) => `SOP "${u.name}"`).join(', ')}. Take it out of their steps first.`,
        users.map((u) => ({ path: `sops/${u.id}`, problem: `SOP "${u.name}" picks it` })));
    }
    await this.db.query(`DELETE FROM materials WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  }

  /**
   * Each SOP publishes on its own (its own transaction and dispatcher): one that its own checks now refuse
   * (say its executor was disabled since) is reported and the others still publish.
   */
  private async republish(caller: Principal, id: string): Promise<{ republished: RepublishedDto[]; notRepublished: NotRepublishedDto[] }> {
    const live: { id: string; name: string }[] = await this.db.query(
      `SELECT DISTINCT s.id, s.name FROM sops s ${PICKS('s.definition')}
        WHERE s.tenant_id = $1 AND s.status IN ('active', 'paused') AND NOT (s.kind = 'broadcast' AND s.current_version IS NOT NULL)
          AND pick.m ->> 'materialId' = $2 ORDER BY s.name`, [caller.tenantId, id]);
    const republished: RepublishedDto[] = [];
    const notRepublished: NotRepublishedDto[] = [];
    for (const sop of live) {
      try {
        const current = await this.sops.row(this.db, caller.tenantId, sop.id);
        const saved = await this.sops.update(caller, sop.id, { definition: current.definition });
        if (saved.currentVersion !== current.current_version) republished.push({ sopId: sop.id, sopName: sop.name, version: saved.currentVersion });
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        notRepublished.push({ sopId: sop.id, sopName: sop.name, code: e.code, message: e.message });
      }
    }
    return { republished, notRepublished };
  }

  /** Where the material is picked: each SOP's working copy and published versions, step by step. */
  private async usage(db: Queryable, tenantId: string, id: string): Promise<MaterialUseDto[]> {
    const library = await this.row(db, tenantId, id);
    const rows: (MaterialUseDto & { pick: { title: string; url: string; tagIds: string[] } })[] = await db.query(
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
    const same = (p: { title: string; url: string; tagIds: string[] }) =>
      p.title === library.title && p.url === library.url && [...p.tagIds].sort().join() === [...library.tag_ids].sort().join();
    return rows.map(({ pick, ...use }) => ({ ...use, current: same(pick) }));
  }

  /**
   * Per material: the SOPs that pick it, the tasks that carried it and their tracked-link opens. Tasks are read
   * by SOP (tasks_sop_idx) for the SOPs whose versions pick one of the materials, opens by task.
   */
  private async stats(db: Queryable, tenantId: string, ids: string[]): Promise<Map<string, MaterialStatsDto>> {
    if (!ids.length) return new Map();
    const rows: (MaterialStatsDto & { id: string })[] = await db.query(
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
    return new Map(rows.map(({ id, ...s }) => [id, s]));
  }

  async row(db: Queryable, tenantId: string, id: string): Promise<MaterialRow> {
    const [row] = await db.query(`SELECT * FROM materials WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    if (!row) throw fail(MATERIALS_ERRORS.MATERIAL_NOT_FOUND, `No material with id ${id}.`, undefined, 404);
    return row;
  }

  private values(dto: MaterialInputDto): unknown[] {
    return [dto.kind, dto.folder ?? '', dto.title, dto.summary ?? '', dto.coverUrl || null, dto.url, [...new Set(dto.tagIds ?? [])]];
  }

  /** The same URL rules as a step's pasted material (the domain's schema and the tenant's http setting), and the tenant's tags. */
  private async checkInput(tenantId: string, dto: MaterialInputDto): Promise<void> {
    const [r] = await this.db.query(
      `SELECT (SELECT allow_http_materials FROM tenants WHERE id = $1) AS allow_http,
              ARRAY(SELECT id::text FROM tags WHERE tenant_id = $1 AND id = ANY($2::uuid[])) AS tags`,
      [tenantId, dto.tagIds ?? []],
    );
    const problems: ErrorDetail[] = [];
    const checkUrl = (path: string, url: string) => {
      const parsed = materialUrlSchema.safeParse(url);
      if (!parsed.success) problems.push({ path, problem: parsed.error.issues[0].message });
      else if (!r.allow_http && url.toLowerCase().startsWith('http:')) {
        problems.push({ path, problem: 'must be an https URL (an admin may allow http: PUT /api/settings/materials)' });
      }
    };
    checkUrl('url', dto.url);
    if (dto.coverUrl) checkUrl('coverUrl', dto.coverUrl);
    const known = new Set<string>(r.tags);
    (dto.tagIds ?? []).forEach((t, i) => { if (!known.has(t)) problems.push({ path: `tagIds[${i}]`, problem: `unknown tag ${t}` }); });
    if (problems.length) throw fail(COMMON_ERRORS.VALIDATION_FAILED, problems.map((d) => `${d.path}: ${d.problem}`).join('; '), problems, 422);
  }

  private async earlier(tenantId: string, id: string | undefined, key: string | null): Promise<MaterialRow | undefined> {
    if (!id && !key) return undefined;
    const [row] = await this.db.query(
      `SELECT * FROM materials WHERE tenant_id = $1 AND (id = $2 OR idempotency_key = $3) ORDER BY id = $2 DESC LIMIT 1`,
      [tenantId, id ?? null, key]);
    return row;
  }

  /** A repeat must ask for the same material: one id reused for another is a client bug worth saying. */
  private sameRequest(row: MaterialRow, dto: CreateMaterialDto, key: string | null): LibraryMaterialDto {
    if (row.title !== dto.title || row.url !== dto.url || row.kind !== dto.kind) {
      throw fail(MATERIALS_ERRORS.MATERIAL_ID_REUSED, undefined,
        [{ path: key && row.idempotency_key === key && !dto.id ? 'Idempotency-Key' : 'id', problem: 'already used for a different material' }]);
    }
    return toDto(row);
  }
}
