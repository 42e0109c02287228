import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { changeTags, notifyMaterialOpened, recordContactActivity, recordResponse } from '@sop/engine';
import { isbot } from 'isbot';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import { notFound } from '../../common/errors.catalog';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { TagsRepository } from '../tags/tags.repository';
import { type LinkMaterial as Material, LinksRepository } from './links.repository';

/** Rolls back the open's row: an open that does not count leaves no trace (the next real one is the first). */
class NotCounted extends Error {}

interface OpenedTask { tenant_id: string; contact_id: string | null; executor_id: string | null; sop_id: string; step_index: number }

/** `<task>-<material>-<key id>.<signature>`; links sent before key ids have no `<key id>.` (signed with the JWT-derived key). */
const TOKEN = /^(\d{1,18})-(\d{1,2})-(?:([A-Za-z0-9]{1,8})\.)?([A-Za-z0-9_-]{22})$/;

/**
 * A WeCom mass-send's link: `w<template row>-<material>-<the row's secret>`. One template carries one content for
 * every customer, so its link names the batch, not a task (docs/wecom.md); the secret is stored with the row.
 */
const BATCH_TOKEN = /^w(\d{1,18})-(\d{1,2})-([A-Za-z0-9_-]{22})$/;

/** Opens this soon after the executor copied the link are the chat app's link preview, not the customer. */
export const COPY_GRACE_SECONDS = 30;

/** Who opens a link without being the customer: link previews, mail scanners, crawlers and scripts (isbot's list). */
export const isAutomatedOpen = (method: string, userAgent: string | undefined): boolean =>
  method === 'HEAD' || !userAgent || isbot(userAgent);

export interface OpenRequest { method: string; userAgent?: string }

/**
 * Tracked links: one unguessable link per task and material, signed (HMAC) rather than stored. Opening it
 * redirects to the material, records the open once per task, material and day (later opens count up),
 * and on the first open of the day applies the material's tags, records an `opened` response (the tenant's
 * response rules follow), marks the contact as having responded and announces it (`material.opened`), and tells the task's
 * executor (a `material_opened` notification).
 */
@Injectable()
export class LinksService {
  /** Signing keys by id; `current` signs new links. Links without a key id were signed with `legacy`. */
  private readonly keys = new Map<string, Buffer>();
  private readonly current: string;
  private readonly legacy: Buffer;
  private readonly log = new Logger(LinksService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly links: LinksRepository,
    private readonly tags: TagsRepository,
  ) {
    this.legacy = createHmac('sha256', config.jwt.secret).update('tracked-links').digest();
    // LINK_SIGNING_KEYS (required in production): links outlive a JWT_SECRET rotation; locally one key derived from JWT_SECRET
    const keys = config.linkSigningKeys ?? [{ id: 'j', secret: this.legacy.toString('hex') }];
    for (const k of keys) this.keys.set(k.id, createHmac('sha256', k.secret).update('tracked-links').digest());
    this.current = keys[0].id;
  }

  path(tenantId: string, taskId: string, index: number): string {
    return `/r/${taskId}-${index}-${this.current}.${this.sign(this.keys.get(this.current)!, tenantId, taskId, index)}`;
  }

  /**
   * The material's address for a valid token; 404 for anything else, saying nothing about why. A HEAD, a
   * known preview or scanner user agent, or an open within COPY_GRACE_SECONDS of the executor copying the
   * link is sent on without being counted (docs/security.md).
   */
  async open(token: string, req: OpenRequest = { method: 'GET' }): Promise<string> {
    const batch = BATCH_TOKEN.exec(token);
    if (batch) return this.openBatch(token, batch, req);
    const m = TOKEN.exec(token);
    if (!m) throw notFound('link', token);
    const [, taskId, index, keyId, signature] = m;
    const key = keyId === undefined ? this.legacy : this.keys.get(keyId);
    const task = key ? await this.links.taskForLink(taskId) : undefined;
    const expected = task ? Buffer.from(this.sign(key!, task.tenant_id, taskId, Number(index))) : Buffer.alloc(22);
    const material: Material | undefined = task?.materials?.[Number(index)];
    if (!task || !material || !timingSafeEqual(expected, Buffer.from(signature))) throw notFound('link', token);
    if (isAutomatedOpen(req.method, req.userAgent)) return material.url;
    // The customer is always sent on: recording the open is best effort and never stands in the way.
    await this.record(task, taskId, Number(index), material).catch((err: Error) => {
      if (!(err instanceof NotCounted)) this.log.warn(`open of task ${taskId} not recorded: ${err.message}`);
    });
    return material.url;
  }

  /**
   * A mass-send's link: counted (once a day, then counting up) on the template's first task with `batch` set, so the
   * material's opens include it; no contact is known (every customer of the template got the same link), so no
   * response, tag or notification follows. 404 for a wrong secret, like any unknown link.
   */
  private async openBatch(token: string, [, rowId, index, secret]: RegExpExecArray, req: OpenRequest): Promise<string> {
    const row = await this.links.batchForLink(rowId);
    const material: Material | undefined = row?.materials?.[Number(index)];
    const expected = Buffer.from(typeof row?.link_token === 'string' ? row.link_token : '');
    if (!material || expected.length !== 22 || !timingSafeEqual(expected, Buffer.from(secret))) throw notFound('link', token);
    if (isAutomatedOpen(req.method, req.userAgent)) return material.url;
    await this.links.countBatchOpen(row!.tenant_id, row!.task_id, Number(index), row!.timezone).catch((err: Error) => this.log.warn(`open of mass-send ${rowId} not recorded: ${err.message}`));
    return material.url;
  }

  /** The executor copied the link (the console says so): opens in the next COPY_GRACE_SECONDS are the paste's preview. */
  async copied(tenantId: string, taskId: string, index: number): Promise<void> {
    await this.links.recordCopy(tenantId, taskId, index);
  }

  private async record(task: OpenedTask, taskId: string, index: number, material: Material): Promise<void> {
    await this.db.transaction(async (tx) => {
      const row = await this.links.countOpen(tx, task.tenant_id, taskId, index, task.contact_id);
      if (row.opens !== 1 || !task.contact_id) return;
      if (await this.links.copiedWithin(tx, taskId, index, COPY_GRACE_SECONDS)) throw new NotCounted();
      // An open counts once per contact, material and day: the same coupon sent by two SOPs and opened through
      // both links tags and notifies once.
      const open = { tenantId: task.tenant_id, contactId: task.contact_id, taskId, index, url: material.url, day: row.day };
      if (await this.links.openedElsewhereToday(tx, open)) return;
      // A material's tag may have been deleted since the task was made (its SOP archived): give the ones that remain.
      const tags = material.tagIds.length ? await this.tags.existingTagIds(tx, task.tenant_id, material.tagIds) : [];
      if (tags.length) {
        await changeTags(tx, task.tenant_id, [task.contact_id], { add: tags, reason: `opened "${material.title}"` }, { type: 'response', id: null });
      }
      await recordResponse(tx, task.tenant_id, {
        contactId: task.contact_id, kind: 'opened', source: 'link', taskId, sopId: task.sop_id, stepIndex: task.step_index,
        material: material.title, data: { materialIndex: index },
      });
      await this.links.recordOpened(tx, task.tenant_id, { contactIds: [task.contact_id], taskId, executorId: task.executor_id, material: material.title });
      await recordContactActivity(tx, task.tenant_id, task.contact_id, { contacted: false, responded: true });
      // the executor hears of it in the app as this commits (the trigger's NOTIFY); email follows with the next sweep
      await notifyMaterialOpened(tx, { tenantId: task.tenant_id, taskId, materialIndex: index, material: material.title, day: row.day });
    });
  }

  private sign(key: Buffer, tenantId: string, taskId: string, index: number): string {
    return createHmac('sha256', key).update(`${tenantId}.${taskId}.${index}`).digest('base64url').slice(0, 22);
  }
}
