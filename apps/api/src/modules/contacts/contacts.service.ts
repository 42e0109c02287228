import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AppError } from '@sop/domain';
import { contactsChanged } from '@sop/engine';
import { DataSource, type EntityManager } from 'typeorm';
import { notFound } from '../../common/errors.catalog';
import type { Page, PageQuery } from '../../common/pagination';
import { decodeCursor, keysetPage } from '../../common/pagination';
import { taken, unlessTaken } from '../../common/postgres-errors';
import type { Principal } from '../../common/principal';
import { assertActiveUser } from '../../common/tenant-scope';
import { type TagActor, TagWriter } from '../tags/tag-writer.service';
import type { ContactDto, CreateContactDto, TimelineEntryDto, UpdateContactDto } from './contacts.dto';
import { CONTACTS_ERRORS } from './contacts.errors';
import { contactFieldsOf, type ContactRow, ContactsRepository } from './contacts.repository';

export const toContactDto = (r: ContactRow): ContactDto => ({
  id: r.id, externalId: r.external_id, name: r.name, phone: r.phone, email: r.email, ownerId: r.owner_id, timezone: r.timezone,
  attributes: r.attributes, orderCount: r.order_count, totalSpend: r.total_spend, spend30d: r.spend_30d,
  lastOrderAt: r.last_order_at, lastContactedAt: r.last_contacted_at, lastRespondedAt: r.last_responded_at,
  tags: r.tags, createdAt: r.created_at, updatedAt: r.updated_at,
});

const EXTERNAL_ID_KEY = 'contacts_tenant_external_key';
const externalIdTaken = (externalId: string) => () =>
  taken(CONTACTS_ERRORS.CONTACT_EXISTS, `A contact with externalId "${externalId}" already exists.`, 'externalId');

export const actorOf = (p: Principal): TagActor =>
  p.userId ? { type: 'user', id: p.userId } : { type: 'api_key', id: p.apiKeyId };

@Injectable()
export class ContactsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly tagWriter: TagWriter,
    private readonly contacts: ContactsRepository,
  ) {}

  async create(caller: Principal, dto: CreateContactDto): Promise<ContactDto> {
    const id = await this.db.transaction(async (m) => {
      await assertActiveUser(m, caller.tenantId, dto.ownerId);
      const created = await unlessTaken(EXTERNAL_ID_KEY, externalIdTaken(dto.externalId), () => this.contacts.insert(m, caller.tenantId, dto));
      if (dto.tags?.length) {
        await this.tagWriter.change(caller.tenantId, [created], { add: dto.tags, reason: 'set at creation' }, actorOf(caller), m)
          .catch(renamePaths('add', 'tags'));
      } else {
        await contactsChanged(m, caller.tenantId, [created]);
      }
      return created;
    });
    return this.get(caller.tenantId, id);
  }

  async get(tenantId: string, id: string, m: EntityManager = this.db.manager): Promise<ContactDto> {
    const row = await this.contacts.find(tenantId, id, m);
    if (!row) throw notFound('contact', id);
    return toContactDto(row);
  }

  async list(tenantId: string, { limit, cursor }: PageQuery, { q, tagIds, ownerId }: { q?: string; tagIds?: string[]; ownerId?: string } = {}): Promise<Page<ContactDto>> {
    const rows = await this.contacts.page(tenantId, limit + 1, { after: cursor ? decodeCursor(cursor) : undefined, q, tagIds, ownerId });
    return keysetPage(rows, limit, toContactDto);
  }

  async update(tenantId: string, id: string, dto: UpdateContactDto): Promise<ContactDto> {
    return this.db.transaction(async (m) => {
      await assertActiveUser(m, tenantId, dto.ownerId);
      const fields = contactFieldsOf(dto);
      if (fields.length) {
        const updated = await unlessTaken(EXTERNAL_ID_KEY, externalIdTaken(dto.externalId ?? ''), () => this.contacts.update(m, tenantId, id, dto));
        if (!updated) throw notFound('contact', id);
        await this.contacts.recordUpdated(m, tenantId, id, fields);
        await contactsChanged(m, tenantId, [id]);
      }
      return this.get(tenantId, id, m);
    });
  }

  async remove(tenantId: string, id: string): Promise<void> {
    if (!(await this.contacts.delete(tenantId, id))) throw notFound('contact', id);
  }

  /** Tag changes and responses, newest first. */
  async timeline(tenantId: string, id: string, limit = 100): Promise<TimelineEntryDto[]> {
    await this.get(tenantId, id);
    const rows = await this.contacts.timeline(tenantId, id, limit);
    return rows.map((r) => ({ type: r.type, at: r.at, detail: r.detail }));
  }
}

/** Tag errors name `add[i]`; on contact creation the field is `tags[i]`. */
function renamePaths(from: string, to: string) {
  return (err: unknown): never => {
    if (err instanceof AppError && err.details) {
      throw new AppError(err.code, err.status, err.message, err.details.map((d) => ({ ...d, path: d.path.replace(from, to) })));
    }
    throw err;
  };
}
