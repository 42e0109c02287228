import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { LibraryMaterial, SopDefinition } from '@sop/domain';
import { groupInAudienceSql, groupInDefinitionAudienceSql, type Queryable } from '@sop/engine';
import { DataSource } from 'typeorm';
import type { HeldCountDto, SopListSummaryDto, SopStatus } from './sops.dto';

export interface SopRow {
  id: string; tenant_id: string; name: string; description: string; kind: string; status: SopStatus;
  definition: SopDefinition; current_version: number | null; created_at: Date; updated_at: Date;
}

/** What a definition is checked against: the organization's ids of each kind, in one read. */
export interface SopCheckContextRow {
  segments: string[]; users: string[]; teams: string[]; tags: string[]; exclusive: Record<string, string>;
  sops: string[]; journeys: string[]; allow_http: boolean | null;
}

export interface ImageFacts { id: string; url: string; image_checked_url: string | null; image_bytes: number | null; image_type: string | null }

export interface StepCounts { step: number; waiting: number; pending: number; done: number; skipped: number; expired: number; cancelled: number; held: number }

/** A SOP's fields its working copy saves (`tagIds`, `segmentIds`: what the definition refers to, indexed). */
export interface SopFields { name: string; description: string; kind: string; definition: SopDefinition; tagIds: string[]; segmentIds: string[] }

/**
 * The SOP aggregate: `sops`, their published `sop_versions`, and what the API reads and writes of their
 * `enrollments` and `tasks` (counts, progress, the forecast's inputs, archiving and migrating); also the reads a
 * definition is checked against (segments, users, teams, tags, materials and their kept image facts) and the
 * response rules that use a SOP. The API's one home for that SQL; the engine's readers (calendar, people, day load,
 * rendering) and its dispatch stay in libs/engine. Every statement is keyed by the caller's organization, or by a
 * SOP id read under it; those that run in the caller's transaction take its manager as `m`.
 */
@Injectable()
export class SopsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async insert(tenantId: string, f: SopFields, createdBy: string | null): Promise<SopRow> {
    const [row] = await this.db.query(
      `INSERT INTO sops (tenant_id, name, description, kind, definition, tag_ids, segment_ids, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [tenantId, f.name, f.description, f.kind, f.definition, f.tagIds, f.segmentIds, createdBy],
    );
    return row;
  }

  /**
   * The organization's SOPs by name with what a list shows of each: audience size, open enrollments, tasks today and
   * overdue. A group audience is counted by the condition dispatch and the forecast use (group-audience.ts in the engine).
   */
  list(tenantId: string, status: SopStatus | null, kind: string | null): Promise<(SopRow & { summary: SopListSummaryDto })[]> {
    return this.db.query(
      `SELECT s.*, json_build_object(
                'audience', CASE WHEN s.definition -> 'audience' ? 'segmentId'
                  THEN (SELECT count(*) FROM segment_memberships sm
                         WHERE sm.tenant_id = s.tenant_id AND sm.segment_id = (s.definition -> 'audience' ->> 'segmentId')::uuid AND sm.exited_at IS NULL)
                  ELSE (SELECT count(*) FROM customer_groups g LEFT JOIN users u ON u.id = g.owner_id
                         WHERE g.tenant_id = s.tenant_id AND ${groupInDefinitionAudienceSql('g', 'u', 's.definition')})
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
      [tenantId, status, kind],
    );
  }

  /** The SOP's row, `FOR UPDATE` when the caller's transaction changes it; undefined when the organization has none. */
  async find(m: Queryable, tenantId: string, id: string, lock = ''): Promise<SopRow | undefined> {
    const [row] = await m.query(`SELECT * FROM sops WHERE tenant_id = $1 AND id = $2 ${lock}`, [tenantId, id]);
    return row;
  }

  /** The SOP's published versions, newest first (the id was read under the caller's organization). */
  versions(sopId: string): Promise<{ version: number; published_at: Date; published_by: string | null }[]> {
    return this.db.query(`SELECT version, published_at, published_by FROM sop_versions WHERE sop_id = $1 ORDER BY version DESC`, [sopId]);
  }

  /** The SOP's enrollments by status and its tasks by status. */
  async counts(sopId: string): Promise<{ enrollments: { active: number; completed: number; exited: number }; tasks: Record<string, number> }> {
    const [counts] = await this.db.query(
      `SELECT (SELECT json_build_object(
                   'active', count(*) FILTER (WHERE status = 'active'), 'completed', count(*) FILTER (WHERE status = 'completed'),
                   'exited', count(*) FILTER (WHERE status = 'exited')) FROM enrollments WHERE sop_id = $1) AS enrollments,
                (SELECT coalesce(json_object_agg(status, n), '{}') FROM
                   (SELECT status, count(*) AS n FROM tasks WHERE sop_id = $1 GROUP BY status) t) AS tasks`,
      [sopId],
    );
    return counts;
  }

  /** Saves the working copy; the saved row. */
  async saveWorkingCopy(m: Queryable, tenantId: string, id: string, f: SopFields): Promise<SopRow> {
    const [[saved]]: SopRow[][] = await m.query(
      `UPDATE sops SET name = $3, description = $4, kind = $5, definition = $6, tag_ids = $7, segment_ids = $8, updated_at = now()
            WHERE tenant_id = $1 AND id = $2 RETURNING *`,
      [tenantId, id, f.name, f.description, f.kind, f.definition,
        f.tagIds, f.segmentIds],
    );
    return saved;
  }

  /** The working copy as checked, saved only when that changed it (its row then; undefined when it did not). */
  async saveCheckedCopy(m: Queryable, sopId: string, definition: SopDefinition, tagIds: string[]): Promise<SopRow | undefined> {
    const [[row]] = await m.query(
      `UPDATE sops SET definition = $2, tag_ids = $3, updated_at = now() WHERE id = $1 AND definition <> $2::jsonb RETURNING *`,
      [sopId, definition, tagIds]);
    return row;
  }

  async setActive(m: Queryable, sopId: string): Promise<SopRow> {
    const [[active]]: SopRow[][] = await m.query(`UPDATE sops SET status = 'active', updated_at = now() WHERE id = $1 RETURNING *`, [sopId]);
    return active;
  }

  async setStatus(m: Queryable, sopId: string, to: SopStatus): Promise<SopRow> {
    const [[row]] = await m.query(`UPDATE sops SET status = $2, updated_at = now() WHERE id = $1 RETURNING *`, [sopId, to]);
    return row;
  }

  /** An archived SOP's open enrollments close and its pending tasks are cancelled, with the reason. */
  async closeOpenWork(m: Queryable, sopId: string): Promise<void> {
    await m.query(
      `WITH closed AS (
           UPDATE enrollments SET status = 'exited', closed_at = now(), close_reason = 'SOP archived', next_due_at = NULL
            WHERE sop_id = $1 AND status = 'active' RETURNING id
         )
         UPDATE tasks SET status = 'cancelled', cancel_reason = 'SOP archived', finished_at = now()
          WHERE sop_id = $1 AND status = 'pending'`,
      [sopId],
    );
  }

  /**
   * Moves open enrollments on other versions (or only `fromVersion`) to `currentVersion`, each due to be looked at
   * again now; how many moved.
   */
  async migrateEnrollments(m: Queryable, sopId: string, currentVersion: number | null, fromVersion: number | null): Promise<number> {
    const [, migrated] = await m.query(
      `UPDATE enrollments e SET sop_version_id = cur.id, next_due_at = now()
           FROM sop_versions cur, sop_versions old
          WHERE cur.sop_id = $1 AND cur.version = $2 AND old.id = e.sop_version_id AND old.version <> $2
            AND ($3::int IS NULL OR old.version = $3) AND e.sop_id = $1 AND e.status = 'active'`,
      [sopId, currentVersion, fromVersion],
    );
    return migrated as number;
  }

  /** The response rules that start the SOP, by name. */
  rulesUsing(tenantId: string, sopId: string): Promise<{ id: string; name: string }[]> {
    return this.db.query(
      `SELECT id, name FROM response_rules WHERE tenant_id = $1 AND sop_id = $2 ORDER BY name`, [tenantId, sopId]);
  }

  /** Deletes the SOP if it was never published. */
  async deleteDraft(tenantId: string, id: string): Promise<void> {
    await this.db.query(`DELETE FROM sops WHERE tenant_id = $1 AND id = $2 AND current_version IS NULL`, [tenantId, id]);
  }

  /** One published version with its open enrollments; undefined when there is none. */
  async version(tenantId: string, sopId: string, version: number): Promise<{ version: number; published_at: Date; published_by: string | null; definition: SopDefinition; open: number } | undefined> {
    const [v] = await this.db.query(
      `SELECT v.version, v.published_at, v.published_by, v.definition,
              (SELECT count(*)::int FROM enrollments e WHERE e.sop_version_id = v.id AND e.status = 'active') AS open
         FROM sop_versions v WHERE v.tenant_id = $1 AND v.sop_id = $2 AND v.version = $3`,
      [tenantId, sopId, version],
    );
    return v;
  }

  /** What a definition may refer to now, in one read. */
  async checkContext(m: Queryable, tenantId: string): Promise<SopCheckContextRow> {
    const [r] = await m.query(
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
    return r;
  }

  /** The library's materials among the ids, as a step's picked material takes them. */
  libraryMaterials(m: Queryable, tenantId: string, ids: string[]): Promise<(LibraryMaterial & { id: string })[]> {
    return m.query(
      `SELECT id, title, url, tag_ids AS "tagIds", kind, cover_url AS "coverUrl" FROM materials WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [tenantId, ids]);
  }

  /** Whether the SOP's `version` has this definition. */
  async versionHas(m: Queryable, sopId: string, version: number | null, definition: SopDefinition): Promise<boolean> {
    const [same] = await m.query(
      `SELECT 1 FROM sop_versions WHERE sop_id = $1 AND version = $2 AND definition = $3::jsonb`,
      [sopId, version, definition],
    );
    return Boolean(same);
  }

  /** A new immutable version; the SOP's current version moves to it (the SOP's row after). */
  async insertVersion(m: Queryable, tenantId: string, sopId: string, version: number, f: Pick<SopFields, 'definition' | 'tagIds' | 'segmentIds'>, publishedBy: string | null): Promise<SopRow> {
    await m.query(
      `INSERT INTO sop_versions (tenant_id, sop_id, version, definition, tag_ids, segment_ids, published_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [tenantId, sopId, version, f.definition, f.tagIds, f.segmentIds, publishedBy],
    );
    const [[row]] = await m.query(`UPDATE sops SET current_version = $2, updated_at = now() WHERE id = $1 RETURNING *`, [sopId, version]);
    return row;
  }

  /** The segment and entry event of the SOP's `version` (undefined when it has none yet). */
  async audienceOf(m: Queryable, sopId: string, version: number | null): Promise<{ segment_ids: string[] | null; event: string | null } | undefined> {
    const [previous] = await m.query(
      `SELECT segment_ids, definition->'entry'->>'event' AS event FROM sop_versions WHERE sop_id = $1 AND version = $2`, [sopId, version]);
    return previous;
  }

  /**
   * Where the SOP's enrollment starts in the segment: from its current members (`existing`) or only from those who
   * enter from now on (the segment's membership cursor now, with the snapshot it was read in: a membership under
   * it that this snapshot does not see commits later, and is new).
   */
  async startEnrollment(m: Queryable, sopId: string, segmentId: string, existing: boolean): Promise<void> {
    await m.query(
      `UPDATE sops SET enroll_from = CASE WHEN $3 THEN NULL ELSE now() END, events_seen_at = NULL,
              enroll_snapshot = CASE WHEN $3 THEN NULL ELSE pg_current_snapshot() END,
              enroll_cursor = CASE WHEN $3 THEN 0 ELSE (SELECT coalesce(max(id), 0) FROM segment_memberships WHERE segment_id = $2) END
        WHERE id = $1`,
      [sopId, segmentId, existing],
    );
  }

  /** The definition of the SOP's `version` and the anchor of its calendar rule (its first publication). */
  async running(m: Queryable, sopId: string, version: number | null): Promise<{ definition: SopDefinition; anchor: Date }> {
    const [v] = await m.query(
      `SELECT definition, (SELECT min(published_at) FROM sop_versions WHERE sop_id = $1) AS anchor
         FROM sop_versions WHERE sop_id = $1 AND version = $2`,
      [sopId, version],
    );
    return v;
  }

  /** The materials among the ids with what was learned of their images (`kind` 'image': only images). */
  imageFacts(m: Queryable, tenantId: string, ids: string[], onlyImages: boolean): Promise<ImageFacts[]> {
    return m.query(onlyImages
      ? `SELECT id, url, image_checked_url, image_bytes, image_type FROM materials WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND kind = 'image'`
      : `SELECT id, url, image_checked_url, image_bytes, image_type FROM materials WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
    [tenantId, ids]);
  }

  /** Keeps the image's size and type on its material, with the URL they were read from. */
  async keepImageFacts(m: Queryable, tenantId: string, id: string, url: string, bytes: number, type: string): Promise<void> {
    await m.query(`UPDATE materials SET image_checked_url = $3, image_bytes = $4, image_type = $5 WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, url, bytes, type]);
  }

  /** Where the SOP's contacts are: tasks and waiting enrollments by step, exits by step and reason, enrollments by status, held tasks. */
  progress(tenantId: string, id: string): Promise<[StepCounts[], { step: number; reason: string; contacts: number }[], { active: number; completed: number; exited: number }[], HeldCountDto[]]> {
    return Promise.all([
      this.db.query(
        `SELECT step, sum(waiting)::int AS waiting, sum(pending)::int AS pending, sum(done)::int AS done, sum(skipped)::int AS skipped,
                  sum(expired)::int AS expired, sum(cancelled)::int AS cancelled, sum(held)::int AS held
             FROM (SELECT step_index AS step, 0 AS waiting, count(*) FILTER (WHERE status = 'pending') AS pending,
                          count(*) FILTER (WHERE status = 'done') AS done, count(*) FILTER (WHERE status = 'skipped') AS skipped,
                          count(*) FILTER (WHERE status = 'expired') AS expired, count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
                          count(*) FILTER (WHERE status = 'held') AS held
                     FROM tasks WHERE tenant_id = $1 AND sop_id = $2 GROUP BY step_index
                   UNION ALL
                   SELECT next_step, count(*), 0, 0, 0, 0, 0, 0 FROM enrollments
                    WHERE tenant_id = $1 AND sop_id = $2 AND status = 'active' GROUP BY next_step) x
            GROUP BY step ORDER BY step`,
        [tenantId, id]),
      this.db.query(
        `SELECT next_step AS step, coalesce(close_reason, 'unknown') AS reason, count(*)::int AS contacts
             FROM enrollments WHERE tenant_id = $1 AND sop_id = $2 AND status = 'exited'
            GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2`,
        [tenantId, id]),
      this.db.query(
        `SELECT count(*) FILTER (WHERE status = 'active')::int AS active, count(*) FILTER (WHERE status = 'completed')::int AS completed,
                  count(*) FILTER (WHERE status = 'exited')::int AS exited
             FROM enrollments WHERE tenant_id = $1 AND sop_id = $2`,
        [tenantId, id]),
      // held tasks (tasks_held_idx): the content of their step could not be rendered
      this.db.query(
        `SELECT t.held_reason AS reason, v.version, count(*)::int AS tasks
             FROM tasks t LEFT JOIN sop_versions v ON v.id = t.sop_version_id
            WHERE t.tenant_id = $1 AND t.sop_id = $2 AND t.status = 'held'
            GROUP BY 1, 2 ORDER BY 3 DESC, 2 DESC, 1`,
        [tenantId, id]),
    ]);
  }

  // The forecast's reads.

  /** The anchor of the SOP's calendar rule: its first publication (null before). */
  async firstPublished(sopId: string): Promise<Date | null> {
    const [{ anchor }] = await this.db.query(`SELECT min(published_at) AS anchor FROM sop_versions WHERE sop_id = $1`, [sopId]);
    return anchor;
  }

  /** A segment's current members per contact owner. */
  segmentMembersByOwner(tenantId: string, segmentId: string): Promise<{ owner_id: string | null; n: number }[]> {
    return this.db.query(
      `SELECT c.owner_id, count(*)::int AS n FROM segment_memberships m JOIN contacts c ON c.id = m.contact_id
          WHERE m.segment_id = $1 AND m.exited_at IS NULL AND c.tenant_id = $2 GROUP BY c.owner_id`,
      [segmentId, tenantId]);
  }

  /** Customer groups per owner, of the owners and teams named (all groups when neither is), as dispatch reads them. */
  groupsByOwner(tenantId: string, ownerUserIds: string[] | null, ownerTeamIds: string[] | null): Promise<{ owner_id: string | null; n: number }[]> {
    return this.db.query(
      `SELECT g.owner_id, count(*)::int AS n FROM customer_groups g LEFT JOIN users u ON u.id = g.owner_id
          WHERE g.tenant_id = $1 AND ${groupInAudienceSql('g', 'u', '$2::uuid[]', '$3::uuid[]')}
          GROUP BY g.owner_id`,
      [tenantId, ownerUserIds, ownerTeamIds]);
  }

  private notEnrolledQuery = `FROM segment_memberships m JOIN contacts c ON c.id = m.contact_id
     WHERE m.segment_id = $2 AND m.exited_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.sop_id = $1 AND e.contact_id = m.contact_id AND e.status = 'active')`;

  /** The segment's current members without an open enrollment in the SOP. */
  async notEnrolled(tenantId: string, sopId: string, segmentId: string): Promise<number> {
    const [r] = await this.db.query(`SELECT count(*)::int AS n ${this.notEnrolledQuery} AND c.tenant_id = $3`, [sopId, segmentId, tenantId]);
    return r.n;
  }

  /** The same, per contact owner. */
  notEnrolledByOwner(tenantId: string, sopId: string, segmentId: string): Promise<{ owner_id: string | null; n: number }[]> {
    return this.db.query(
      `SELECT c.owner_id, count(*)::int AS n ${this.notEnrolledQuery} AND c.tenant_id = $3 GROUP BY c.owner_id`, [sopId, segmentId, tenantId]);
  }

  /** The SOP's open enrollments grouped by version, next step, day entered (in `zone`) and contact owner. */
  openEnrollmentGroups(sopId: string, zone: string): Promise<{ definition: SopDefinition; next_step: number; entered: string; owner_id: string | null; n: number }[]> {
    return this.db.query(
      `SELECT v.definition, e.next_step, to_char(e.entered_at AT TIME ZONE $2, 'YYYY-MM-DD') AS entered, c.owner_id, count(*)::int AS n
         FROM enrollments e JOIN sop_versions v ON v.id = e.sop_version_id JOIN contacts c ON c.id = e.contact_id
        WHERE e.sop_id = $1 AND e.status = 'active'
        GROUP BY v.definition, e.next_step, entered, c.owner_id`,
      [sopId, zone],
    );
  }

  userNames(tenantId: string, ids: string[]): Promise<{ id: string; name: string }[]> {
    return this.db.query(`SELECT id, name FROM users WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [tenantId, ids]);
  }
}
