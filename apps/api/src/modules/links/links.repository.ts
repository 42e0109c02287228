import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queryable } from '@sop/engine';
import { DataSource } from 'typeorm';

export interface LinkMaterial { title: string; url: string; tagIds: string[] }

export interface LinkedTask {
  tenant_id: string; contact_id: string | null; executor_id: string | null; sop_id: string; step_index: number; materials: LinkMaterial[] | null;
}

export interface LinkedBatch { tenant_id: string; link_token: unknown; task_id: string; materials: LinkMaterial[] | null; timezone: string | null }

/**
 * Tracked links' `link_opens` and `link_copies`, with the reads a link's token needs (its task, or its mass-send's
 * first task) and the `material.opened` event: the API's one home for that SQL. A link is opened by no signed-in
 * caller: its task (found by id) gives the organization, the signature proves it, and every write after that is keyed by
 * it; the console's statements are keyed by the caller's organization. Statements in the open's transaction take its manager.
 */
@Injectable()
export class LinksRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The task a link names, whichever organization's (the token's signature is checked against it). */
  async taskForLink(taskId: string): Promise<LinkedTask | undefined> {
    const [task] = await this.db.query(`SELECT tenant_id, contact_id, executor_id, sop_id, step_index, materials FROM tasks WHERE id = $1`, [taskId]);
    return task;
  }

  /** A mass-send's row and its first task (its secret is checked against the link's). */
  async batchForLink(massSendId: string): Promise<LinkedBatch | undefined> {
    const [row] = await this.db.query(
      `SELECT w.tenant_id, w.link_token, t.id::text AS task_id, t.materials, c.timezone
         FROM wecom_mass_sends w
         CROSS JOIN LATERAL (SELECT id, materials, contact_id FROM tasks WHERE wecom_mass_send_id = w.id ORDER BY id LIMIT 1) t
         LEFT JOIN contacts c ON c.id = t.contact_id
        WHERE w.id = $1`, [massSendId]);
    return row;
  }

  /** Counts a mass-send link's open on its first task, once a day (in the zone given) and then counting up. */
  async countBatchOpen(tenantId: string, taskId: string, index: number, timezone: string | null): Promise<void> {
    await this.db.query(
      `INSERT INTO link_opens (tenant_id, task_id, material_index, day, batch)
       VALUES ($1, $2, $3, (now() AT TIME ZONE coalesce($4, 'Asia/Shanghai'))::date, true)
       ON CONFLICT (task_id, material_index, day, batch) DO UPDATE SET opens = link_opens.opens + 1`,
      [tenantId, taskId, index, timezone]);
  }

  async recordCopy(tenantId: string, taskId: string, index: number): Promise<void> {
    await this.db.query(
      `INSERT INTO link_copies (tenant_id, task_id, material_index) VALUES ($1, $2, $3)
       ON CONFLICT (task_id, material_index) DO UPDATE SET copied_at = now()`, [tenantId, taskId, index]);
  }

  /** Counts an open for the contact's day (their zone); the opens so far that day and the day. */
  async countOpen(tx: Queryable, tenantId: string, taskId: string, index: number, contactId: string | null): Promise<{ opens: number; day: string }> {
    const [row] = await tx.query(
      `INSERT INTO link_opens (tenant_id, task_id, material_index, day)
         SELECT $1, $2, $3, (now() AT TIME ZONE coalesce((SELECT timezone FROM contacts WHERE id = $4), 'Asia/Shanghai'))::date
         ON CONFLICT (task_id, material_index, day, batch) DO UPDATE SET opens = link_opens.opens + 1
         RETURNING opens, day::text AS day`,
      [tenantId, taskId, index, contactId],
    );
    return row;
  }

  /** Whether the executor copied the link in the last `seconds`. */
  async copiedWithin(tx: Queryable, taskId: string, index: number, seconds: number): Promise<boolean> {
    const [justCopied] = await tx.query(
      `SELECT 1 FROM link_copies WHERE task_id = $1 AND material_index = $2 AND copied_at > now() - make_interval(secs => $3)`,
      [taskId, index, seconds]);
    return Boolean(justCopied);
  }

  /**
   * Whether the contact opened the same material (by url) through another task's link that day. Opens of one material
   * by one contact take turns (an advisory lock for the day, held to the transaction's end), so two at once cannot both be first.
   */
  async openedElsewhereToday(
    tx: Queryable, o: { tenantId: string; contactId: string; taskId: string; index: number; url: string; day: string },
  ): Promise<boolean> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`link-open:${o.contactId}:${o.day}:${o.url}`]);
    const [earlier] = await tx.query(
      `SELECT 1 FROM tasks t JOIN link_opens o ON o.task_id = t.id AND o.day = $3::date
        WHERE t.tenant_id = $1 AND t.contact_id = $2 AND NOT (o.task_id = $4 AND o.material_index = $5) AND NOT o.batch
          AND t.materials -> o.material_index ->> 'url' = $6
        LIMIT 1`,
      [o.tenantId, o.contactId, o.day, o.taskId, o.index, o.url]);
    return Boolean(earlier);
  }

  /** Announces the open (`material.opened`). */
  async recordOpened(tx: Queryable, tenantId: string, payload: { contactIds: string[]; taskId: string; executorId: string | null; material: string }): Promise<void> {
    await tx.query(`INSERT INTO domain_events (tenant_id, type, payload) VALUES ($1, 'material.opened', $2)`, [tenantId, payload]);
  }
}
