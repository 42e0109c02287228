import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AppError, UUID_PATTERN } from '@sop/domain';
import { arriveThroughCode, findSourceCode, recordResponse } from '@sop/engine';
import { DataSource, type EntityManager } from 'typeorm';
import { COMMON_ERRORS, fail, notFound } from '../../common/errors.catalog';
import { taken, unlessTaken } from '../../common/postgres-errors';
import { assertActiveUser } from '../../common/tenant-scope';
import type { ContactDto } from '../contacts/contacts.dto';
import { ContactsService } from '../contacts/contacts.service';
import { TagsRepository } from '../tags/tags.repository';
import type { CreateSourceCodeDto, JoinDto, SourceCodeRecord, UpdateSourceCodeDto } from './source-codes.dto';
import { WECOM_ERRORS } from '../wecom/wecom.errors';
import { SOURCE_CODES_ERRORS } from './source-codes.errors';
import { type SourceCodeRow as Row, SourceCodesRepository } from './source-codes.repository';
import { type ContactWay, WecomContactWays } from './wecom-contact-way';

/** The bytes of a QR image read from WeCom's host, at most; its QR codes are a few kilobytes. */
const QR_MAX_BYTES = 2 * 1024 * 1024;
/** How long WeCom's image host has to answer the whole image. */
const QR_TIMEOUT_MS = 10_000;
const QR_TYPES: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp' };
/** The image's type from its first bytes, when WeCom's host names none we know. */
const sniff = (b: Buffer): string | null =>
  b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) ? 'image/png'
    : b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff ? 'image/jpeg' : null;
const codeTaken = (code: string) => () => taken(SOURCE_CODES_ERRORS.SOURCE_CODE_TAKEN, `The code "${code}" is already in use.`, 'code');
const wayOf = (r: Row): ContactWay | null => (r.wecom_config_id
  ? { configId: r.wecom_config_id, qrCode: r.wecom_qr_code ?? '', userIds: r.wecom_way_user_ids ?? [], wecomUserIds: r.wecom_user_ids ?? [] }
  : null);
const toDto = (r: Row): SourceCodeRecord => ({
  id: r.id, code: r.code, name: r.name, tagIds: r.tag_ids, ownerId: r.owner_id, createdAt: r.created_at, wecomContactWay: wayOf(r),
  wecomLeftover: r.wecom_leftover ?? null,
});

/** Channel and campaign codes: whoever arrives through one gets its tags and, if new, its owner. */
@Injectable()
export class SourceCodesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly contacts: ContactsService,
    private readonly ways: WecomContactWays,
    private readonly codes: SourceCodesRepository,
    private readonly tags: TagsRepository,
  ) {}

  /** With `wecomContactWay`, the QR code is created in WeCom in the row's transaction: WeCom refusing saves nothing. */
  async create(tenantId: string, dto: CreateSourceCodeDto): Promise<SourceCodeRecord> {
    await this.assertTags(tenantId, dto.tagIds ?? []);
    await assertActiveUser(this.db, tenantId, dto.ownerId);
    if (dto.wecomContactWay) WecomContactWays.checkState(dto.code);
    return this.db.transaction(async (m) => {
      const row = await unlessTaken('source_codes_tenant_code_key', codeTaken(dto.code), () =>
        this.codes.insert(m, tenantId, { code: dto.code, name: dto.name.trim(), tagIds: dto.tagIds ?? [], ownerId: dto.ownerId ?? null }),
      );
      if (!dto.wecomContactWay) return toDto(row);
      return toDto(await this.codes.saveWay(m, tenantId, row.id, await this.ways.create(m, tenantId, dto.code, dto.wecomContactWay.userIds)));
    });
  }

  async list(tenantId: string): Promise<SourceCodeRecord[]> {
    return (await this.codes.list(tenantId)).map(toDto);
  }

  async get(tenantId: string, id: string, m?: EntityManager): Promise<SourceCodeRecord> {
    const row = await this.codes.findWithLeftover(tenantId, id, m);
    if (!row) throw notFound('source code', id);
    return toDto(row);
  }

  /**
   * The code's QR code follows in WeCom: created or changed when `wecomContactWay` is given, deleted when it is
   * null, its state changed when only the code is renamed; in the row's transaction (WeCom refusing saves nothing).
   */
  async update(tenantId: string, id: string, dto: UpdateSourceCodeDto): Promise<SourceCodeRecord> {
    if (dto.tagIds) await this.assertTags(tenantId, dto.tagIds);
    await assertActiveUser(this.db, tenantId, dto.ownerId);
    return this.db.transaction(async (m) => {
      // Locked for the whole edit, WeCom's calls included: a concurrent edit waits and then sees this one's
      // configuration (else both would add one, and the one saved first would be orphaned in WeCom).
      const current = await this.row(tenantId, id, m);
      const code = dto.code ?? current.code;
      const way = wayOf(current);
      if (dto.wecomContactWay || (way && dto.wecomContactWay === undefined && code !== current.code)) WecomContactWays.checkState(code);
      await unlessTaken('source_codes_tenant_code_key', codeTaken(code), () =>
        this.codes.update(m, tenantId, id, {
          code, name: dto.name?.trim() ?? current.name, tagIds: dto.tagIds ?? current.tag_ids,
          ownerId: dto.ownerId === undefined ? current.owner_id : dto.ownerId,
        }),
      );
      if (dto.wecomContactWay === null) {
        if (way) {
          // WeCom failing to delete it does not keep it on the code: it is kept as the code's leftover
          await this.ways.removeOrLeave(m, tenantId, id, way.configId, 'removed');
          await this.codes.saveWay(m, tenantId, id, null);
        }
        return this.get(tenantId, id, m);
      }
      if (dto.wecomContactWay) {
        const next = way
          ? await this.ways.update(m, tenantId, id, way, code, dto.wecomContactWay.userIds)
          : await this.ways.create(m, tenantId, code, dto.wecomContactWay.userIds);
        await this.codes.saveWay(m, tenantId, id, next);
        return this.get(tenantId, id, m);
      }
      if (way && code !== current.code) await this.ways.update(m, tenantId, id, way, code, way.userIds);
      return this.get(tenantId, id, m);
    });
  }

  /**
   * A code with a QR code, or leftovers: each deleted in WeCom first (the leftovers, then the QR code's); any of
   * them failing answers its error (503 WeCom out of reach, 422 refused) and deletes nothing, since a deleted code
   * would have nowhere to show what is left in WeCom. A leftover that cannot be deleted (WeCom no longer connected)
   * is forgotten first (DELETE …/wecom-leftover?forget=true).
   */
  async remove(tenantId: string, id: string): Promise<void> {
    await this.db.transaction(async (m) => {
      // locked as an edit locks it: an edit under way finishes first, and its configuration is the one deleted
      const row = await this.row(tenantId, id, m);
      const leftovers = await this.codes.leftovers(m, tenantId, id);
      if (leftovers.length) {
        const { refusal } = await this.ways.deleteLeftovers(tenantId, leftovers);
        if (refusal) throw refusal;
      }
      if (row.wecom_config_id) await this.ways.remove(tenantId, row.wecom_config_id);
      await this.codes.delete(m, tenantId, id);
    });
  }

  /**
   * The code's leftovers in WeCom: deleted there now (retry), or with `forget` only forgotten here (the admin
   * deletes them in WeCom by other means, or the corporation is gone). Idempotent: nothing left answers the same.
   * Some still failing are kept with their new error, and the error is the answer.
   */
  async clearLeftover(tenantId: string, id: string, forget: boolean): Promise<void> {
    const leftovers = await this.db.transaction(async (m) => {
      await this.row(tenantId, id, m); // 404, and an edit of the code under way finishes first
      const found = await this.codes.leftovers(m, tenantId, id);
      if (forget && found.length) await this.codes.forgetLeftovers(m, tenantId, id, found.map((l) => l.id));
      return forget ? [] : found;
    });
    if (!leftovers.length) return;
    // WeCom is called outside a transaction; a retry racing this one finds the configs gone (40058: deleted)
    const { deleted, failed, refusal } = await this.ways.deleteLeftovers(tenantId, leftovers);
    await this.codes.settleLeftovers(tenantId, id, deleted, failed);
    if (refusal) throw refusal;
  }

  /**
   * The image of the code's WeCom QR code, read from WeCom's host (another origin, which the console cannot offer as
   * a download): at most 2 MB within 10 s, an image by its type or first bytes. 404 WECOM_QR_NOT_FOUND when the
   * code has none; 503 WECOM_QR_UNAVAILABLE when WeCom's host fails.
   */
  async wecomQrImage(tenantId: string, id: string): Promise<{ bytes: Buffer; contentType: string; filename: string }> {
    const row = await this.row(tenantId, id);
    if (!row.wecom_qr_code) throw fail(WECOM_ERRORS.WECOM_QR_NOT_FOUND);
    const unavailable = (why: string) => fail(WECOM_ERRORS.WECOM_QR_UNAVAILABLE, `WeCom's image host did not give the QR image: ${why}. Try again shortly.`);
    let url: URL;
    try {
      url = new URL(row.wecom_qr_code);
    } catch {
      throw unavailable('its address is not a URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw unavailable('its address is not http(s)');
    const signal = AbortSignal.timeout(QR_TIMEOUT_MS);
    let bytes: Buffer;
    let declared: string;
    try {
      const res = await fetch(url, { signal, headers: { accept: 'image/*' } });
      if (!res.ok) throw unavailable(`it answered ${res.status}`);
      if (Number(res.headers.get('content-length') ?? 0) > QR_MAX_BYTES) throw unavailable(`it is over ${QR_MAX_BYTES} bytes`);
      declared = (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body ?? []) {
        size += chunk.length;
        if (size > QR_MAX_BYTES) {
          await res.body?.cancel().catch(() => undefined);
          throw unavailable(`it is over ${QR_MAX_BYTES} bytes`);
        }
        chunks.push(Buffer.from(chunk));
      }
      bytes = Buffer.concat(chunks);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw unavailable(signal.aborted ? `no answer within ${QR_TIMEOUT_MS / 1000} s` : (err as Error).message);
    }
    const contentType = QR_TYPES[declared] ? declared : sniff(bytes);
    if (!contentType) throw unavailable(`it is not an image (${declared || 'no content type'})`);
    return { bytes, contentType, filename: `${row.code}-wecom.${QR_TYPES[contentType]}` };
  }

  /**
   * A contact arrives through a code: created or found by external id, given the code's tags and,
   * when it has no owner yet, the code's owner (an existing relationship is not taken away).
   * Repeating it changes nothing.
   */
  async join(tenantId: string, dto: JoinDto): Promise<{ created: boolean; contact: ContactDto }> {
    return this.db.transaction(async (m) => {
      const { created, contactId } = await this.joinIn(m, tenantId, dto);
      return { created, contact: await this.contacts.get(tenantId, contactId, m) };
    });
  }

  /**
   * `join` in the caller's transaction (the events API records the arrival with it). `fromPublicForm`: an
   * anonymous visitor, who may fill a new contact's name but never change a known contact's.
   */
  async joinIn(
    m: EntityManager, tenantId: string, dto: JoinDto, { fromPublicForm = false } = {},
  ): Promise<{ created: boolean; contactId: string; sourceCodeId: string }> {
    const code = await findSourceCode(m, tenantId, dto.code);
    if (!code) throw fail(COMMON_ERRORS.SOURCE_CODE_NOT_FOUND, `No source code "${dto.code}".`, [{ path: 'code', problem: 'no such source code' }], 422);
    const contact = await this.codes.upsertArrivingContact(
      m, tenantId, { externalId: dto.externalId.trim(), name: dto.name ?? null, phone: dto.phone ?? null, email: dto.email ?? null }, fromPublicForm);
    // tags, the owner when it has none, and contact.joined: the same rule as a WeCom contact added through the code
    await arriveThroughCode(m, tenantId, code, contact);
    return { created: contact.created, contactId: contact.id, sourceCodeId: code.id };
  }

  /** What the public join page shows of a code: the organization it leads to (nothing internal). Null for an unknown id. */
  async joinPage(id: string): Promise<{ organization: string } | null> {
    if (!UUID_PATTERN.test(id)) return null;
    return (await this.codes.organizationOfCode(id)) ?? null;
  }

  /**
   * A customer leaves a phone number (and a name) on the code's join page: they arrive through the code as
   * `join` does, under the external id `phone:<number>`, so leaving it again adds nothing (nor renames the
   * contact), and the first time a `joined` response (source `link`) lets response rules follow, as the events
   * API's contact.joined does. Null for an unknown id.
   */
  async joinByPhone(id: string, phone: string, name?: string): Promise<{ created: boolean; contactId: string } | null> {
    if (!UUID_PATTERN.test(id)) return null;
    const code = await this.codes.codeById(id);
    if (!code) return null;
    return this.db.transaction(async (m) => {
      const arrival = await this.joinIn(
        m, code.tenant_id, { code: code.code, externalId: `phone:${phone}`, phone, name: name || undefined }, { fromPublicForm: true });
      if (arrival.created) {
        await recordResponse(m, code.tenant_id, {
          contactId: arrival.contactId, kind: 'joined', source: 'link', data: { code: code.code, created: true, via: 'join page' },
        });
      }
      return arrival;
    });
  }

  private async assertTags(tenantId: string, tagIds: string[]): Promise<void> {
    const known = new Set<string>(await this.tags.existingTagIds(this.db, tenantId, tagIds));
    const details = tagIds.map((id, i) => ({ id, path: `tagIds[${i}]` })).filter((t) => !known.has(t.id)).map(({ path }) => ({ path, problem: 'no such tag' }));
    if (details.length) throw fail(COMMON_ERRORS.TAG_NOT_FOUND, 'Some tags do not exist.', details, 422);
  }

  /** The code's row; inside a transaction (`m`) locked FOR UPDATE until it ends. */
  private async row(tenantId: string, id: string, m?: EntityManager): Promise<Row> {
    const row = m ? await this.codes.lock(m, tenantId, id) : await this.codes.find(tenantId, id);
    if (!row) throw notFound('source code', id);
    return row;
  }
}
