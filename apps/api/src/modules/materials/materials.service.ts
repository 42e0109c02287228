import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AppError, type ErrorDetail, materialUrlSchema } from '@sop/domain';
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
import { type MaterialPick, type MaterialRow, type MaterialValues, MaterialsRepository } from './materials.repository';

const NO_STATS: MaterialStatsDto = { sops: 0, sent: 0, opens: 0, openedContacts: 0 };

const toDto = (r: MaterialRow, stats: MaterialStatsDto = NO_STATS): LibraryMaterialDto => ({
  id: r.id, kind: r.kind, folder: r.folder, title: r.title, summary: r.summary, coverUrl: r.cover_url, url: r.url, tagIds: r.tag_ids,
  stats, createdAt: r.created_at, updatedAt: r.updated_at,
});

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
    private readonly materials: MaterialsRepository,
  ) {}

  /** A repeated id or Idempotency-Key answers the first material (created false); a different one under it is 409. */
  async create(caller: Principal, dto: CreateMaterialDto, idempotencyKey?: string): Promise<{ created: boolean; material: LibraryMaterialDto }> {
    const key = idempotencyKey?.trim() || null;
    await this.checkInput(caller.tenantId, dto);
    const earlier = await this.earlier(caller.tenantId, dto.id, key);
    if (earlier) return { created: false, material: this.sameRequest(earlier, dto, key) };
    const row = await this.materials.insert(caller.tenantId, dto.id ?? randomUUID(), key, this.values(dto), caller.userId ?? null);
    if (row) return { created: true, material: toDto(row) };
    const raced = await this.earlier(caller.tenantId, dto.id, key); // a concurrent repeat committed first, or another tenant's id
    if (!raced) throw fail(MATERIALS_ERRORS.MATERIAL_ID_REUSED, 'id: already taken; send a new one', [{ path: 'id', problem: 'already taken' }]);
    return { created: false, material: this.sameRequest(raced, dto, key) };
  }

  /** Newest first in keyset pages; `q` looks in titles and summaries. Each with where it is used and how often it was opened. */
  async list(tenantId: string, q: MaterialQuery): Promise<LibraryMaterialPageDto> {
    const rows = await this.materials.page(tenantId, {
      folder: q.folder?.trim(),
      kind: q.kind,
      like: q.q?.trim() ? `%${q.q.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined,
      after: q.cursor ? decodeCursor(q.cursor) : undefined,
    }, q.limit + 1);
    const page = rows.slice(0, q.limit);
    const stats = await this.stats(tenantId, page.map((r) => r.id));
    const items = page.map((r) => toDto(r, stats.get(r.id)));
    const last = rows.length > q.limit ? items[items.length - 1] : undefined;
    return { items, nextCursor: last ? encodeCursor(last.createdAt, last.id) : null };
  }

  async folders(tenantId: string): Promise<MaterialFolderDto[]> {
    return this.materials.folders(tenantId);
  }

  /** With where it is used when `withUsage` (admins and ops: which SOPs exist is theirs to see). */
  async get(tenantId: string, id: string, withUsage: boolean): Promise<LibraryMaterialDetailDto> {
    const row = await this.row(tenantId, id);
    const [stats, usage] = await Promise.all([this.stats(tenantId, [id]), withUsage ? this.usage(tenantId, id) : undefined]);
    return { ...toDto(row, stats.get(id)), ...(usage ? { usage } : {}) };
  }

  /**
   * Replaces the material. SOPs keep what they were published with; with `republish`, each active or paused SOP
   * whose working copy picks it publishes a new version (the SOP module's own edit, which copies the new content in).
   */
  async update(caller: Principal, id: string, dto: MaterialInputDto, republish = false): Promise<LibraryMaterialUpdatedDto> {
    await this.row(caller.tenantId, id);
    await this.checkInput(caller.tenantId, dto);
    await this.materials.update(caller.tenantId, id, this.values(dto));
    const { republished, notRepublished } = republish ? await this.republish(caller, id) : { republished: [], notRepublished: [] };
    return { ...(await this.get(caller.tenantId, id, true)), republished, notRepublished };
  }

  /** Refused while an SOP that is not archived picks it in its working copy: published versions carry their own copy. */
  async remove(tenantId: string, id: string): Promise<void> {
    await this.row(tenantId, id);
    const users = await this.materials.sopsPicking(tenantId, id);
    if (users.length) {
      throw fail(MATERIALS_ERRORS.MATERIAL_IN_USE, `Picked by ${users.map((u) => `SOP "${u.name}"`).join(', ')}. Take it out of their steps first.`,
        users.map((u) => ({ path: `sops/${u.id}`, problem: `SOP "${u.name}" picks it`, kind: 'sop' as const, name: u.name })));
    }
    await this.materials.delete(tenantId, id);
  }

  /**
   * Each SOP publishes on its own (its own transaction and dispatcher): one that its own checks now refuse
   * (say its executor was disabled since) is reported and the others still publish.
   */
  private async republish(caller: Principal, id: string): Promise<{ republished: RepublishedDto[]; notRepublished: NotRepublishedDto[] }> {
    const live = await this.materials.republishableSopsPicking(caller.tenantId, id);
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
  private async usage(tenantId: string, id: string): Promise<MaterialUseDto[]> {
    const library = await this.row(tenantId, id);
    const rows = await this.materials.uses(tenantId, id);
    const same = (p: MaterialPick) =>
      p.title === library.title && p.url === library.url && [...p.tagIds].sort().join() === [...library.tag_ids].sort().join();
    return rows.map(({ pick, ...use }) => ({ ...use, current: same(pick) }));
  }

  /**
   * Per material: the SOPs that pick it, the tasks that carried it and their tracked-link opens. Tasks are read
   * by SOP (tasks_sop_idx) for the SOPs whose versions pick one of the materials, opens by task.
   */
  private async stats(tenantId: string, ids: string[]): Promise<Map<string, MaterialStatsDto>> {
    if (!ids.length) return new Map();
    const rows = await this.materials.stats(tenantId, ids);
    return new Map(rows.map(({ id, ...s }) => [id, s]));
  }

  async row(tenantId: string, id: string): Promise<MaterialRow> {
    const row = await this.materials.find(tenantId, id);
    if (!row) throw fail(MATERIALS_ERRORS.MATERIAL_NOT_FOUND, `No material with id ${id}.`, undefined, 404);
    return row;
  }

  private values(dto: MaterialInputDto): MaterialValues {
    return [dto.kind, dto.folder ?? '', dto.title, dto.summary ?? '', dto.coverUrl || null, dto.url, [...new Set(dto.tagIds ?? [])]];
  }

  /** The same URL rules as a step's pasted material (the domain's schema and the tenant's http setting), and the tenant's tags. */
  private async checkInput(tenantId: string, dto: MaterialInputDto): Promise<void> {
    const r = await this.materials.urlRuleAndTags(tenantId, dto.tagIds ?? []);
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
    return this.materials.findByIdOrKey(tenantId, id ?? null, key);
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
