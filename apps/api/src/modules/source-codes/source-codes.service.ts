import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { UUID_PATTERN } from '@sop/domain';
import { arriveThroughCode, findSourceCode, recordResponse } from '@sop/engine';
import { DataSource, type EntityManager } from 'typeorm';
import { COMMON_ERRORS, fail, notFound } from '../../common/errors.catalog';
import { taken, unlessTaken } from '../../common/postgres-errors';
import { assertActiveUser } from '../../common/tenant-scope';
import type { ContactDto } from '../contacts/contacts.dto';
import { ContactsService } from '../contacts/contacts.service';
import type { CreateSourceCodeDto, JoinDto, SourceCodeRecord, UpdateSourceCodeDto } from './source-codes.dto';
import { SOURCE_CODES_ERRORS } from './source-codes.errors';
import { type ContactWay, WecomContactWays } from './wecom-contact-way';

interface Row {
  id: string; code: string; name: string; tag_ids: string[]; owner_id: string | null; created_at: Date;
  wecom_config_id: string | null; wecom_qr_code: string | null; wecom_user_ids: string[] | null; wecom_way_user_ids: string[] | null;
}
const codeTaken = (code: string) => () => taken(SOURCE_CODES_ERRORS.SOURCE_CODE_TAKEN, `The code "${code}" is already in use.`, 'code');
const wayOf = (r: Row): ContactWay | null => (r.wecom_config_id
  ? { configId: r.wecom_config_id, qrCode: r.wecom_qr_code ?? '', userIds: r.wecom_way_user_ids ?? [], wecomUserIds: r.wecom_user_ids ?? [] }
  : null);
const toDto = (r: Row): SourceCodeRecord => ({
  id: r.id, code: r.code, name: r.name, tagIds: r.tag_ids, ownerId: r.owner_id, createdAt: r.created_at, wecomContactWay: wayOf(r),
});
/** Keeps a code's contact way (or its absence) on its row, in the caller's transaction. */
const saveWay = async (m: EntityManager, tenantId: string, id: string, way: ContactWay | null): Promise<Row> =>
  (await m.query(
    `UPDATE source_codes SET wecom_config_id = $3, wecom_qr_code = $4, wecom_user_ids = $5, wecom_way_user_ids = $6, updated_at = now()
      WHERE tenant_id = $1 AND id = $2 RETURNING *`,
    [tenantId, id, way?.configId ?? null, way?.qrCode ?? null, way?.wecomUserIds ?? null, way?.userIds ?? null]))[0][0];

/** Channel and campaign codes: whoever arrives through one gets its tags and, if new, its owner. */
@Injectable()
export class SourceCodesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly contacts: ContactsService,
    private readonly ways: WecomContactWays,
  ) {}

  /** With `wecomContactWay`, the QR code is created in WeCom in the row's transaction: WeCom refusing saves nothing. */
  async create(tenantId: string, dto: CreateSourceCodeDto): Promise<SourceCodeRecord> {
    await this.assertTags(tenantId, dto.tagIds ?? []);
    await assertActiveUser(this.db, tenantId, dto.ownerId);
    if (dto.wecomContactWay) WecomContactWays.checkState(dto.code);
    return this.db.transaction(async (m) => {
      const [row] = await unlessTaken('source_codes_tenant_code_key', codeTaken(dto.code), () =>
        m.query(`INSERT INTO source_codes (tenant_id, code, name, tag_ids, owner_id) VALUES ($1, $2, $3, $4, $5) RETURNING *`, [
          tenantId, dto.code, dto.name.trim(), dto.tagIds ?? [], dto.ownerId ?? null,
        ]),
      );
      if (!dto.wecomContactWay) return toDto(row);
      return toDto(await saveWay(m, tenantId, row.id, await this.ways.create(m, tenantId, dto.code, dto.wecomContactWay.userIds)));
    });
  }

  async list(tenantId: string): Promise<SourceCodeRecord[]> {
    return (await this.db.query(`SELECT * FROM source_codes WHERE tenant_id = $1 ORDER BY code`, [tenantId])).map(toDto);
  }

  async get(tenantId: string, id: string): Promise<SourceCodeRecord> {
    return toDto(await this.row(tenantId, id));
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
      const [[row]] = await unlessTaken('source_codes_tenant_code_key', codeTaken(code), () =>
        m.query(
          `UPDATE source_codes SET code = $3, name = $4, tag_ids = $5, owner_id = $6, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING *`,
          [tenantId, id, code, dto.name?.trim() ?? current.name, dto.tagIds ?? current.tag_ids,
            dto.ownerId === undefined ? current.owner_id : dto.ownerId],
        ),
      );
      if (dto.wecomContactWay === null) {
        if (way) await this.ways.remove(tenantId, way.configId);
        return toDto(way ? await saveWay(m, tenantId, id, null) : row);
      }
      if (dto.wecomContactWay) {
        const next = way
          ? await this.ways.update(m, tenantId, way, code, dto.wecomContactWay.userIds)
          : await this.ways.create(m, tenantId, code, dto.wecomContactWay.userIds);
        return toDto(await saveWay(m, tenantId, id, next));
      }
      if (way && code !== current.code) await this.ways.update(m, tenantId, way, code, way.userIds);
      return toDto(row);
    });
  }

  /** A code with a QR code: deleted in WeCom first (WeCom out of reach: 503, nothing deleted). */
  async remove(tenantId: string, id: string): Promise<void> {
    await this.db.transaction(async (m) => {
      // locked as an edit locks it: an edit under way finishes first, and its configuration is the one deleted
      const row = await this.row(tenantId, id, m);
      if (row.wecom_config_id) await this.ways.remove(tenantId, row.wecom_config_id);
      await m.query(`DELETE FROM source_codes WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    });
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
    const [contact] = await m.query(
      `INSERT INTO contacts (tenant_id, external_id, name, phone, email) VALUES ($1, $2, coalesce($3, ''), $4, $5)
       ON CONFLICT (tenant_id, external_id) DO UPDATE SET
         name = CASE WHEN $6 AND contacts.name <> '' THEN contacts.name ELSE coalesce(nullif(EXCLUDED.name, ''), contacts.name) END,
         phone = coalesce(EXCLUDED.phone, contacts.phone),
         email = coalesce(EXCLUDED.email, contacts.email), updated_at = now()
       RETURNING id, (xmax = 0) AS created`,
      [tenantId, dto.externalId.trim(), dto.name ?? null, dto.phone ?? null, dto.email ?? null, fromPublicForm],
    );
    // tags, the owner when it has none, and contact.joined: the same rule as a WeCom contact added through the code
    await arriveThroughCode(m, tenantId, code, contact);
    return { created: contact.created, contactId: contact.id, sourceCodeId: code.id };
  }

  /** What the public join page shows of a code: the organization it leads to (nothing internal). Null for an unknown id. */
  async joinPage(id: string): Promise<{ organization: string } | null> {
    if (!UUID_PATTERN.test(id)) return null;
    const [row] = await this.db.query(`SELECT t.name AS organization FROM source_codes c JOIN tenants t ON t.id = c.tenant_id WHERE c.id = $1`, [id]);
    return row ?? null;
  }

  /**
   * A customer leaves a phone number (and a name) on the code's join page: they arrive through the code as
   * `join` does, under the external id `phone:<number>`, so leaving it again adds nothing (nor renames the
   * contact), and the first time a `joined` response (source `link`) lets response rules follow, as the events
   * API's contact.joined does. Null for an unknown id.
   */
  async joinByPhone(id: string, phone: string, name?: string): Promise<{ created: boolean; contactId: string } | null> {
    if (!UUID_PATTERN.test(id)) return null;
    const [code]: { tenant_id: string; code: string }[] = await this.db.query(`SELECT tenant_id, code FROM source_codes WHERE id = $1`, [id]);
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
    const known = new Set<string>((await this.db.query(`SELECT id FROM tags WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [tenantId, tagIds]))
      .map((r: { id: string }) => r.id));
    const details = tagIds.map((id, i) => ({ id, path: `tagIds[${i}]` })).filter((t) => !known.has(t.id)).map(({ path }) => ({ path, problem: 'no such tag' }));
    if (details.length) throw fail(COMMON_ERRORS.TAG_NOT_FOUND, 'Some tags do not exist.', details, 422);
  }

  /** The code's row; inside a transaction (`m`) locked FOR UPDATE until it ends. */
  private async row(tenantId: string, id: string, m?: EntityManager): Promise<Row> {
    const [row] = m
      ? await m.query(`SELECT * FROM source_codes WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [tenantId, id])
      : await this.db.query(`SELECT * FROM source_codes WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    if (!row) throw notFound('source code', id);
    return row;
  }
}
