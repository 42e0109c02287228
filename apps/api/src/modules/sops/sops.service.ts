import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  AppError, type ErrorDetail, materialIdsOf, type SopContext, type SopDefinition, sopInvalid, sopReferences, validateSop,
  withLibraryMaterials, wecomAttachmentProblems,
} from '@sop/domain';
import type { Queryable } from '@sop/engine';
import { DataSource } from 'typeorm';
import { fail, notFound } from '../../common/errors.catalog';
import { taken, unlessTaken } from '../../common/postgres-errors';
import type { Principal } from '../../common/principal';
import { type RunningSop, SopRuntime } from './sop-runtime.service';
import type { CreateSopDto, SopDetailDto, SopDto, SopListItemDto, SopStatus, SopVersionDetailDto, UpdateSopDto } from './sops.dto';
import { SOPS_ERRORS } from './sops.errors';
import { type SopRow, SopsRepository } from './sops.repository';
import { readImagesAhead, wecomImageProblems } from './wecom-images';
import { APP_CONFIG, type AppConfig } from '../../config/config';

const toDto = (r: SopRow): SopDto => ({
  id: r.id, name: r.name, description: r.description, kind: r.kind, status: r.status, definition: r.definition,
  currentVersion: r.current_version, createdAt: r.created_at, updatedAt: r.updated_at,
});

const nameTaken = (name: string) => () => taken(SOPS_ERRORS.SOP_NAME_TAKEN, `An SOP named "${name}" already exists.`, 'name');

/**
 * SOP lifecycle: drafts are edited freely; activation validates again (what a draft refers to may have
 * gone), publishes an immutable version and starts the SOP's dispatcher workflow; editing an active
 * SOP publishes a new version (enrollments stay on theirs); pause, resume and archive reach the
 * dispatcher by signal, while the database status is what every page of work checks.
 */
@Injectable()
export class SopsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly sops: SopsRepository,
    private readonly runtime: SopRuntime,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(caller: Principal, dto: CreateSopDto): Promise<SopDto> {
    const def = await this.check(this.db, caller.tenantId, dto.definition);
    const refs = sopReferences(def);
    const row = await unlessTaken('sops_tenant_name_key', nameTaken(dto.name), () => this.sops.insert(caller.tenantId,
      { name: dto.name.trim(), description: dto.description ?? '', kind: def.kind, definition: def, tagIds: refs.tagIds, segmentIds: refs.segmentIds },
      caller.userId,
    ));
    return toDto(row);
  }

  /** The tenant's SOPs with what a list shows of each: audience size, open enrollments, tasks today and overdue. */
  async list(tenantId: string, filter: { status?: SopStatus; kind?: string } = {}): Promise<SopListItemDto[]> {
    const rows = await this.sops.list(tenantId, filter.status ?? null, filter.kind ?? null);
    return rows.map((r) => ({ ...toDto(r), summary: r.summary }));
  }

  async get(tenantId: string, id: string): Promise<SopDetailDto> {
    const row = await this.row(this.db, tenantId, id);
    const [versions, counts] = await Promise.all([this.sops.versions(id), this.sops.counts(id)]);
    return {
      ...toDto(row),
      versions: versions.map((v) => ({
        version: v.version, publishedAt: v.published_at, publishedBy: v.published_by,
      })),
      enrollments: counts.enrollments,
      tasks: counts.tasks,
    };
  }

  async update(caller: Principal, id: string, dto: UpdateSopDto): Promise<SopDto> {
    if (dto.definition !== undefined) await this.readImagesAhead(caller.tenantId, dto.definition);
    const { row, published } = await unlessTaken('sops_tenant_name_key', nameTaken(dto.name ?? ''), () =>
      this.db.transaction(async (m) => {
        const current = await this.row(m, caller.tenantId, id, 'FOR UPDATE');
        if (current.status === 'archived') throw fail(SOPS_ERRORS.SOP_ARCHIVED, 'An archived SOP cannot be edited; copy it into a new SOP.');
        if (current.kind === 'broadcast' && current.current_version !== null && dto.definition !== undefined) {
          throw fail(SOPS_ERRORS.BROADCAST_PUBLISHED, 'A broadcast cannot change once activated: archive it (which cancels what is left) and create a new one.');
        }
        let def = current.definition;
        if (dto.definition !== undefined) {
          def = await this.check(m, caller.tenantId, dto.definition, id);
          if (current.current_version !== null && def.kind !== current.kind) {
            throw sopInvalid([{ path: 'definition.kind', problem: `a published SOP stays ${current.kind}; create a new SOP instead` }]);
          }
        }
        const refs = sopReferences(def);
        const saved = await this.sops.saveWorkingCopy(m, caller.tenantId, id, {
          name: dto.name?.trim() ?? current.name, description: dto.description ?? current.description, kind: def.kind, definition: def,
          tagIds: refs.tagIds, segmentIds: refs.segmentIds,
        });
        const live = (current.status === 'active' || current.status === 'paused') && dto.definition !== undefined;
        const row = live ? await this.publish(m, caller, saved) : saved;
        if (live) await this.runtime.apply(await this.running(m, row), 'edit'); // a Schedule must follow its new rule
        return { row, published: live };
      }),
    );
    return toDto(published ? await this.row(this.db, caller.tenantId, id) : row);
  }

  /** Publishes the working copy (when it differs from the current version) and starts the dispatcher. Repeating it changes nothing. */
  async activate(caller: Principal, id: string): Promise<SopDto> {
    await this.readImagesAhead(caller.tenantId, (await this.row(this.db, caller.tenantId, id)).definition);
    const row = await this.db.transaction(async (m) => {
      const current = await this.row(m, caller.tenantId, id, 'FOR UPDATE');
      if (current.status === 'active') return current;
      if (current.status === 'archived') throw fail(SOPS_ERRORS.SOP_ARCHIVED, 'An archived SOP cannot be activated again.');
      if (current.status === 'paused') throw fail(SOPS_ERRORS.SOP_PAUSED);
      // what it refers to may have changed since it was saved, and picked materials take the library's current content
      const checked = await this.check(m, caller.tenantId, current.definition, id);
      await this.publish(m, caller, await this.withWorkingCopy(m, current, checked));
      const active = await this.sops.setActive(m, id);
      await this.runtime.apply(await this.running(m, active), 'start'); // inside the transaction: if Temporal refuses, nothing is kept
      return active;
    });
    return toDto(row);
  }

  async pause(caller: Principal, id: string): Promise<SopDto> {
    const row = await this.transition(caller.tenantId, id, 'paused', ['active']);
    await this.runtime.apply(await this.running(this.db, row), 'pause');
    return toDto(row);
  }

  async resume(caller: Principal, id: string): Promise<SopDto> {
    return toDto(await this.db.transaction(async (m) => {
      const row = await this.transitionIn(m, caller.tenantId, id, 'active', ['paused']);
      await this.runtime.apply(await this.running(m, row), 'resume');
      return row;
    }));
  }

  /** Ends the SOP for good: open enrollments close and pending tasks are cancelled, with the reason. */
  async archive(caller: Principal, id: string): Promise<SopDto> {
    const row = await this.db.transaction(async (m) => {
      const archived = await this.transitionIn(m, caller.tenantId, id, 'archived', ['draft', 'active', 'paused']);
      await this.sops.closeOpenWork(m, id);
      return archived;
    });
    if (row.current_version !== null) await this.runtime.apply(await this.running(this.db, row), 'stop');
    return toDto(row);
  }

  /**
   * Moves open enrollments from older versions (or only `fromVersion`) to the current one, on purpose:
   * each keeps its step number and is looked at again now, so its next step's window follows the new
   * version (a step the new version no longer has completes the enrollment).
   */
  async migrateEnrollments(caller: Principal, id: string, fromVersion?: number): Promise<{ migrated: number; toVersion: number }> {
    const { sop, migrated } = await this.db.transaction(async (m) => {
      const sop = await this.row(m, caller.tenantId, id, 'FOR UPDATE');
      if (sop.kind !== 'journey' || sop.current_version === null || sop.status === 'archived') {
        throw fail(SOPS_ERRORS.SOP_NOT_MIGRATABLE);
      }
      const migrated = await this.sops.migrateEnrollments(m, id, sop.current_version, fromVersion ?? null);
      return { sop, migrated };
    });
    if (migrated && sop.status === 'active') await this.runtime.apply(await this.running(this.db, sop), 'edit');
    return { migrated, toVersion: sop.current_version! };
  }

  async remove(tenantId: string, id: string): Promise<void> {
    const row = await this.row(this.db, tenantId, id);
    if (row.current_version !== null) throw fail(SOPS_ERRORS.SOP_PUBLISHED);
    const rules = await this.sops.rulesUsing(tenantId, id);
    if (rules.length) {
      throw fail(SOPS_ERRORS.SOP_IN_USE, `In use by ${rules.map((r) => `response rule "${r.name}"`).join(', ')}. Change them first.`,
        rules.map((r) => ({ path: `response-rules/${r.id}`, problem: `response rule "${r.name}" uses it`, kind: 'responseRule' as const, name: r.name })));
    }
    await this.sops.deleteDraft(tenantId, id);
  }

  /** The SOP or 404, read with `db` (the caller's transaction, `FOR UPDATE` when it changes the SOP, or the pool). */
  async row(db: Queryable, tenantId: string, id: string, lock: '' | 'FOR UPDATE' = ''): Promise<SopRow> {
    const row = await this.sops.find(db, tenantId, id, lock);
    if (!row) throw notFound('SOP', id);
    return row;
  }

  async version(tenantId: string, id: string, version: number): Promise<SopVersionDetailDto> {
    await this.row(this.db, tenantId, id);
    const v = await this.sops.version(tenantId, id, version);
    if (!v) throw notFound('SOP version', `${id} v${version}`);
    return { version: v.version, publishedAt: v.published_at, publishedBy: v.published_by, definition: v.definition, openEnrollments: v.open };
  }

  /** What a save of this definition would say, without saving: its problems at their JSON paths. */
  async dryRun(tenantId: string, input: unknown, selfId?: string): Promise<{ valid: boolean; problems: ErrorDetail[] }> {
    try {
      await this.check(this.db, tenantId, input, selfId);
      return { valid: true, problems: [] };
    } catch (e) {
      if (e instanceof AppError && e.code === 'SOP_INVALID') return { valid: false, problems: e.details ?? [] };
      throw e;
    }
  }

  /** Validates a definition against what the tenant has now: 422 SOP_INVALID naming each JSON path. */
  async check(db: Queryable, tenantId: string, input: unknown, selfId?: string): Promise<SopDefinition> {
    const r = await this.sops.checkContext(db, tenantId);
    const ctx: SopContext = {
      segmentIds: new Set(r.segments), userIds: new Set(r.users), teamIds: new Set(r.teams), tagIds: new Set(r.tags),
      exclusiveGroupOf: new Map(Object.entries(r.exclusive as Record<string, string>)),
      sopIds: new Set(r.sops), journeyIds: new Set(r.journeys), selfId, allowHttpMaterials: Boolean(r.allow_http), now: new Date(),
    };
    const def = validateSop(input, ctx);
    const picked = materialIdsOf(def);
    if (!picked.length) return this.checkWecomAttachments(db, tenantId, def);
    const rows = await this.sops.libraryMaterials(db, tenantId, picked);
    const { definition, problems } = withLibraryMaterials(def, new Map(rows.map((r) => [r.id, r])));
    if (problems.length) throw sopInvalid(problems);
    // the library's URL and tags are checked as pasted ones are
    return this.checkWecomAttachments(db, tenantId, validateSop(definition, ctx));
  }

  private readImagesAhead(tenantId: string, definition: unknown): Promise<void> {
    return readImagesAhead(this.sops, this.db, tenantId, definition, { allowHosts: this.config.notifyInsecureTargetHosts ?? [] });
  }

  /** What WeCom would refuse of the attachments of steps handed to it: counts first, then the images' size and type. */
  private async checkWecomAttachments(db: Queryable, tenantId: string, def: SopDefinition): Promise<SopDefinition> {
    const counted = wecomAttachmentProblems(def);
    if (counted.length) throw sopInvalid(counted);
    const images = await wecomImageProblems(this.sops, db, tenantId, def, { allowHosts: this.config.notifyInsecureTargetHosts ?? [] });
    if (images.length) throw sopInvalid(images);
    return def;
  }

  /** The working copy as checked (picked materials as the library has them now), saved when that changed it. */
  private async withWorkingCopy(m: Queryable, sop: SopRow, def: SopDefinition): Promise<SopRow> {
    const refs = sopReferences(def);
    return (await this.sops.saveCheckedCopy(m, sop.id, def, refs.tagIds)) ?? sop;
  }

  /** A new immutable version from the working copy, unless it equals the current one. */
  private async publish(m: Queryable, caller: Principal, sop: SopRow): Promise<SopRow> {
    if (await this.sops.versionHas(m, sop.id, sop.current_version, sop.definition)) return sop;
    const refs = sopReferences(sop.definition);
    const version = (sop.current_version ?? 0) + 1;
    const row = await this.sops.insertVersion(m, sop.tenant_id, sop.id, version,
      { definition: sop.definition, tagIds: refs.tagIds, segmentIds: refs.segmentIds }, caller.userId);
    await this.startAudience(m, sop, refs.segmentIds[0]);
    return row;
  }

  /**
   * When a journey's first version, or a version with another segment, goes live: its enrollment starts
   * from the segment's current members (includeExistingMembers) or only from those who enter from now on.
   */
  private async startAudience(m: Queryable, sop: SopRow, segmentId: string | undefined): Promise<void> {
    if (sop.kind !== 'journey' || !segmentId) return;
    const previous = await this.sops.audienceOf(m, sop.id, sop.current_version);
    const event = sop.definition.entry.event ?? null;
    if (previous?.segment_ids?.[0] === segmentId && (previous?.event ?? null) === event) return;
    const existing = sop.definition.entry.includeExistingMembers && !event; // an event journey takes only events from now on
    await this.sops.startEnrollment(m, sop.id, segmentId, existing);
  }

  private transition(tenantId: string, id: string, to: SopStatus, from: SopStatus[]): Promise<SopRow> {
    return this.db.transaction((m) => this.transitionIn(m, tenantId, id, to, from));
  }

  /** Moves the status; repeating a transition answers the same SOP (idempotent); a wrong one is 409 naming the status. */
  private async transitionIn(m: Queryable, tenantId: string, id: string, to: SopStatus, from: SopStatus[]): Promise<SopRow> {
    const current = await this.row(m, tenantId, id, 'FOR UPDATE');
    if (current.status === to) return current;
    if (!from.includes(current.status)) {
      throw fail(SOPS_ERRORS.SOP_STATUS_CONFLICT, `This SOP is ${current.status}; it can become ${to} only from ${from.join(' or ')}.`);
    }
    return this.sops.setStatus(m, id, to);
  }

  /** What the runtime needs: the current version's definition and the anchor of its calendar rule. */
  private async running(db: Queryable, sop: SopRow): Promise<RunningSop> {
    const v = await this.sops.running(db, sop.id, sop.current_version);
    return { id: sop.id, kind: sop.kind, definition: v.definition, anchor: v.anchor };
  }
}
