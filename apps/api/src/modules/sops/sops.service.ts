import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  AppError, type ErrorDetail, type LibraryMaterial, materialIdsOf, type SopContext, type SopDefinition, sopInvalid, sopReferences, validateSop,
  withLibraryMaterials, wecomAttachmentProblems,
} from '@sop/domain';
import type { Queryable } from '@sop/engine';
import { DataSource } from 'typeorm';
import { fail, notFound } from '../../common/errors.catalog';
import { taken, unlessTaken } from '../../common/postgres-errors';
import type { Principal } from '../../common/principal';
import { type RunningSop, SopRuntime } from './sop-runtime.service';
import type { CreateSopDto, SopDetailDto, SopDto, SopListItemDto, SopListSummaryDto, SopStatus, SopVersionDetailDto, UpdateSopDto } from './sops.dto';
import { SOPS_ERRORS } from './sops.errors';
import { readImagesAhead, wecomImageProblems } from './wecom-images';
import { APP_CONFIG, type AppConfig } from '../../config/config';

interface SopRow {
  id: string; tenant_id: string; name: string; description: string; kind: string; status: SopStatus;
  definition: SopDefinition; current_version: number | null; created_at: Date; updated_at: Date;
}

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
    private readonly runtime: SopRuntime,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(caller: Principal, dto: CreateSopDto): Promise<SopDto> {
    const def = await this.check(this.db, caller.tenantId, dto.definition);
    const refs = sopReferences(def);
    const [row] = await unlessTaken('sops_tenant_name_key', nameTaken(dto.name), () => this.db.query(
      `INSERT INTO sops (tenant_id, name, description, kind, definition, tag_ids, segment_ids, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [caller.tenantId, dto.name.trim(), dto.description ?? '', def.kind, def, refs.tagIds, refs.segmentIds, caller.userId],
    ));
    return toDto(row);
  }

  /** The tenant's SOPs with what a list shows of each: audience size, open enrollments, tasks today and overdue. */
  async list(tenantId: string, filter: { status?: SopStatus; kind?: string } = {}): Promise<SopListItemDto[]> {
    const rows: (SopRow & { summary: SopListSummaryDto })[] = await this.db.query(
      `SELECT s.*, json_build_object(
                'audience', CASE WHEN s.definition -> 'audience' ? 'segmentId'
                  THEN (SELECT count(*) FROM segment_memberships sm
                         WHERE sm.tenant_id = s.tenant_id AND sm.segment_id = (s.definition -> 'audience' ->> 'segmentId')::uuid AND sm.exited_at IS NULL)
                  ELSE (SELECT count(*) FROM customer_groups g
                         WHERE g.tenant_id = s.tenant_id AND (g.owner_id::text IN (SELECT jsonb_array_elements_text(s.definition -> 'audience' -> 'groups' -> 'ownerUserIds'))
                            OR g.owner_id IN (SELECT u.id FROM users u WHERE u.tenant_id = s.tenant_id
                                               AND u.team_id::text IN (SELECT jsonb_array_elements_text(s.definition -> 'audience' -> 'groups' -> 'ownerTeamIds')))))
                END,
                'openEnrollments', (SELECT count(*) FROM enrollments e WHERE e.sop_id = s.id AND e.status = 'active'),
                'tasksToday', t.today, 'tasksOverdue', t.overdue) AS summary
         FROM sops s
         CROSS JOIN LATERAL (
           SELECT count(*) FILTER (WHERE due_until >= now() AND due_at < (date_trunc('day', now() AT TIME ZONE (s.definition ->> 'timezone')) + interval '1 day') AT TIME ZONE (s.definition ->> 'timezone')) AS today,
                  count(*) FILTER (WHERE due_until < now()) AS overdue
             FROM tasks WHERE sop_id = s.id AND status = 'pending') t
        WHERE s.tenant_id = $1 AND ($2::text IS NULL OR s.status = $2) AND ($3::text IS NULL OR s.kind = $3)
        ORDER BY s.name`,
      [tenantId, filter.status ?? null, filter.kind ?? null],
    );
    return rows.map((r) => ({ ...toDto(r), summary: r.summary }));
  }

  async get(tenantId: string, id: string): Promise<SopDetailDto> {
    const row = await this.row(this.db, tenantId, id);
    const [versions, [counts]] = await Promise.all([
      this.db.query(`SELECT version, published_at, published_by FROM sop_versions WHERE sop_id = $1 ORDER BY version DESC`, [id]),
      this.db.query(
        `SELECT (SELECT json_build_object(
                   'active', count(*) FILTER (WHERE status = 'active'), 'completed', count(*) FILTER (WHERE status = 'completed'),
                   'exited', count(*) FILTER (WHERE status = 'exited')) FROM enrollments WHERE sop_id = $1) AS enrollments,
                (SELECT coalesce(json_object_agg(status, n), '{}') FROM
                   (SELECT status, count(*) AS n FROM tasks WHERE sop_id = $1 GROUP BY status) t) AS tasks`,
        [id],
      ),
    ]);
    return {
      ...toDto(row),
      versions: versions.map((v: { version: number; published_at: Date; published_by: string | null }) => ({
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
        const [[saved]]: SopRow[][] = await m.query(
          `UPDATE sops SET name = $3, description = $4, kind = $5, definition = $6, tag_ids = $7, segment_ids = $8, updated_at = now()
            WHERE tenant_id = $1 AND id = $2 RETURNING *`,
          [caller.tenantId, id, dto.name?.trim() ?? current.name, dto.description ?? current.description, def.kind, def,
            refs.tagIds, refs.segmentIds],
        );
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
      const [[active]]: SopRow[][] = await m.query(`UPDATE sops SET status = 'active', updated_at = now() WHERE id = $1 RETURNING *`, [id]);
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
      await m.query(
        `WITH closed AS (
           UPDATE enrollments SET status = 'exited', closed_at = now(), close_reason = 'SOP archived', next_due_at = NULL
            WHERE sop_id = $1 AND status = 'active' RETURNING id
         )
         UPDATE tasks SET status = 'cancelled', cancel_reason = 'SOP archived', finished_at = now()
          WHERE sop_id = $1 AND status = 'pending'`,
        [id],
      );
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
      const [, migrated] = await m.query(
        `UPDATE enrollments e SET sop_version_id = cur.id, next_due_at = now()
           FROM sop_versions cur, sop_versions old
          WHERE cur.sop_id = $1 AND cur.version = $2 AND old.id = e.sop_version_id AND old.version <> $2
            AND ($3::int IS NULL OR old.version = $3) AND e.sop_id = $1 AND e.status = 'active'`,
        [id, sop.current_version, fromVersion ?? null],
      );
      return { sop, migrated: migrated as number };
    });
    if (migrated && sop.status === 'active') await this.runtime.apply(await this.running(this.db, sop), 'edit');
    return { migrated, toVersion: sop.current_version! };
  }

  async remove(tenantId: string, id: string): Promise<void> {
    const row = await this.row(this.db, tenantId, id);
    if (row.current_version !== null) throw fail(SOPS_ERRORS.SOP_PUBLISHED);
    const rules: { id: string; name: string }[] = await this.db.query(
      `SELECT id, name FROM response_rules WHERE tenant_id = $1 AND sop_id = $2 ORDER BY name`, [tenantId, id]);
    if (rules.length) {
      throw fail(SOPS_ERRORS.SOP_IN_USE, `In use by ${rules.map((r) => `response rule "${r.name}"`).join(', ')}. Change them first.`,
        rules.map((r) => ({ path: `response-rules/${r.id}`, problem: `response rule "${r.name}" uses it` })));
    }
    await this.db.query(`DELETE FROM sops WHERE tenant_id = $1 AND id = $2 AND current_version IS NULL`, [tenantId, id]);
  }

  async row(db: Queryable, tenantId: string, id: string, lock = ''): Promise<SopRow> {
    const [row] = await db.query(`SELECT * FROM sops WHERE tenant_id = $1 AND id = $2 ${lock}`, [tenantId, id]);
    if (!row) throw notFound('SOP', id);
    return row;
  }

  async version(tenantId: string, id: string, version: number): Promise<SopVersionDetailDto> {
    await this.row(this.db, tenantId, id);
    const [v] = await this.db.query(
      `SELECT v.version, v.published_at, v.published_by, v.definition,
              (SELECT count(*)::int FROM enrollments e WHERE e.sop_version_id = v.id AND e.status = 'active') AS open
         FROM sop_versions v WHERE v.tenant_id = $1 AND v.sop_id = $2 AND v.version = $3`,
      [tenantId, id, version],
    );
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
    const [r] = await db.query(
      `SELECT ARRAY(SELECT id FROM segments WHERE tenant_id = $1) AS segments,
              ARRAY(SELECT id FROM users WHERE tenant_id = $1 AND disabled_at IS NULL) AS users,
              ARRAY(SELECT id FROM teams WHERE tenant_id = $1) AS teams,
              ARRAY(SELECT id FROM tags WHERE tenant_id = $1) AS tags,
              coalesce((SELECT json_object_agg(t.id, t.group_id) FROM tags t JOIN tag_groups g ON g.id = t.group_id
                         WHERE t.tenant_id = $1 AND g.exclusive), '{}') AS exclusive,
              ARRAY(SELECT id FROM sops WHERE tenant_id = $1 AND status <> 'archived') AS sops,
              ARRAY(SELECT id FROM sops WHERE tenant_id = $1 AND status <> 'archived' AND kind = 'journey') AS journeys,
              (SELECT allow_http_materials FROM tenants WHERE id = $1) AS allow_http`,
      [tenantId],
    );
    const ctx: SopContext = {
      segmentIds: new Set(r.segments), userIds: new Set(r.users), teamIds: new Set(r.teams), tagIds: new Set(r.tags),
      exclusiveGroupOf: new Map(Object.entries(r.exclusive as Record<string, string>)),
      sopIds: new Set(r.sops), journeyIds: new Set(r.journeys), selfId, allowHttpMaterials: Boolean(r.allow_http), now: new Date(),
    };
    const def = validateSop(input, ctx);
    const picked = materialIdsOf(def);
    if (!picked.length) return this.checkWecomAttachments(db, tenantId, def);
    const rows: (LibraryMaterial & { id: string })[] = await db.query(
      `SELECT id, title, url, tag_ids AS "tagIds", kind, cover_url AS "coverUrl" FROM materials WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [tenantId, picked]);
    const { definition, problems } = withLibraryMaterials(def, new Map(rows.map((r) => [r.id, r])));
    if (problems.length) throw sopInvalid(problems);
    // the library's URL and tags are checked as pasted ones are
    return this.checkWecomAttachments(db, tenantId, validateSop(definition, ctx));
  }

  private readImagesAhead(tenantId: string, definition: unknown): Promise<void> {
    return readImagesAhead(this.db, tenantId, definition, { allowHosts: this.config.notifyInsecureTargetHosts ?? [] });
  }

  /** What WeCom would refuse of the attachments of steps handed to it: counts first, then the images' size and type. */
  private async checkWecomAttachments(db: Queryable, tenantId: string, def: SopDefinition): Promise<SopDefinition> {
    const counted = wecomAttachmentProblems(def);
    if (counted.length) throw sopInvalid(counted);
    const images = await wecomImageProblems(db, tenantId, def, { allowHosts: this.config.notifyInsecureTargetHosts ?? [] });
    if (images.length) throw sopInvalid(images);
    return def;
  }

  /** The working copy as checked (picked materials as the library has them now), saved when that changed it. */
  private async withWorkingCopy(m: Queryable, sop: SopRow, def: SopDefinition): Promise<SopRow> {
    const refs = sopReferences(def);
    const [[row]] = await m.query(
      `UPDATE sops SET definition = $2, tag_ids = $3, updated_at = now() WHERE id = $1 AND definition <> $2::jsonb RETURNING *`,
      [sop.id, def, refs.tagIds]);
    return row ?? sop;
  }

  /** A new immutable version from the working copy, unless it equals the current one. */
  private async publish(m: Queryable, caller: Principal, sop: SopRow): Promise<SopRow> {
    const [same] = await m.query(
      `SELECT 1 FROM sop_versions WHERE sop_id = $1 AND version = $2 AND definition = $3::jsonb`,
      [sop.id, sop.current_version, sop.definition],
    );
    if (same) return sop;
    const refs = sopReferences(sop.definition);
    const version = (sop.current_version ?? 0) + 1;
    await m.query(
      `INSERT INTO sop_versions (tenant_id, sop_id, version, definition, tag_ids, segment_ids, published_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [sop.tenant_id, sop.id, version, sop.definition, refs.tagIds, refs.segmentIds, caller.userId],
    );
    const [[row]] = await m.query(`UPDATE sops SET current_version = $2, updated_at = now() WHERE id = $1 RETURNING *`, [sop.id, version]);
    await this.startAudience(m, sop, refs.segmentIds[0]);
    return row;
  }

  /**
   * When a journey's first version, or a version with another segment, goes live: its enrollment starts
   * from the segment's current members (includeExistingMembers) or only from those who enter from now on.
   */
  private async startAudience(m: Queryable, sop: SopRow, segmentId: string | undefined): Promise<void> {
    if (sop.kind !== 'journey' || !segmentId) return;
    const [previous] = await m.query(
      `SELECT segment_ids, definition->'entry'->>'event' AS event FROM sop_versions WHERE sop_id = $1 AND version = $2`, [sop.id, sop.current_version]);
    const event = sop.definition.entry.event ?? null;
    if (previous?.segment_ids?.[0] === segmentId && (previous?.event ?? null) === event) return;
    const existing = sop.definition.entry.includeExistingMembers && !event; // an event journey takes only events from now on
    await m.query(
      `UPDATE sops SET enroll_from = CASE WHEN $3 THEN NULL ELSE now() END, events_seen_at = NULL,
              enroll_cursor = CASE WHEN $3 THEN 0 ELSE (SELECT coalesce(max(id), 0) FROM segment_memberships WHERE segment_id = $2) END
        WHERE id = $1`,
      [sop.id, segmentId, existing],
    );
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
    const [[row]] = await m.query(`UPDATE sops SET status = $2, updated_at = now() WHERE id = $1 RETURNING *`, [id, to]);
    return row;
  }

  /** What the runtime needs: the current version's definition and the anchor of its calendar rule. */
  private async running(db: Queryable, sop: SopRow): Promise<RunningSop> {
    const [v] = await db.query(
      `SELECT definition, (SELECT min(published_at) FROM sop_versions WHERE sop_id = $1) AS anchor
         FROM sop_versions WHERE sop_id = $1 AND version = $2`,
      [sop.id, sop.current_version],
    );
    return { id: sop.id, kind: sop.kind, definition: v.definition, anchor: v.anchor };
  }
}
