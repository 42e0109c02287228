import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { contactsChanged } from '@sop/engine';
import { DataSource } from 'typeorm';
import { COMMON_ERRORS, fail, notFound } from '../../common/errors.catalog';
import { decodeCursor, keysetPage, type Page, type PageQuery } from '../../common/pagination';
import { assertActiveUser } from '../../common/tenant-scope';
import type { CreateGroupDto, GroupDto, GroupMembersDto, UpdateGroupDto } from './groups.dto';
import { type GroupRow, GroupsRepository } from './groups.repository';

const toDto = (r: GroupRow): GroupDto => ({ id: r.id, name: r.name, ownerId: r.owner_id, memberCount: r.member_count, createdAt: r.created_at });

/** Customer group chats, each run by an employee: the targets of group SOPs. */
@Injectable()
export class GroupsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly groups: GroupsRepository,
  ) {}

  async create(tenantId: string, dto: CreateGroupDto): Promise<GroupDto> {
    await assertActiveUser(this.db, tenantId, dto.ownerId);
    const id = await this.groups.insert(tenantId, dto.name.trim(), dto.ownerId ?? null);
    return this.get(tenantId, id);
  }

  async get(tenantId: string, id: string): Promise<GroupDto> {
    const row = await this.groups.find(tenantId, id);
    if (!row) throw notFound('group', id);
    return toDto(row);
  }

  async list(tenantId: string, { limit, cursor }: PageQuery): Promise<Page<GroupDto>> {
    const rows = await this.groups.page(tenantId, limit + 1, cursor ? decodeCursor(cursor) : undefined);
    return keysetPage(rows, limit, toDto);
  }

  async update(tenantId: string, id: string, dto: UpdateGroupDto): Promise<GroupDto> {
    await this.get(tenantId, id);
    await assertActiveUser(this.db, tenantId, dto.ownerId);
    await this.groups.update(tenantId, id, dto.name?.trim() ?? null, dto.ownerId !== undefined, dto.ownerId ?? null);
    return this.get(tenantId, id);
  }

  async remove(tenantId: string, id: string): Promise<void> {
    if (!(await this.groups.delete(tenantId, id))) throw notFound('group', id);
  }

  /** Adds and removes members; contacts of other tenants are refused by id, adding twice changes nothing. */
  async changeMembers(tenantId: string, id: string, dto: GroupMembersDto): Promise<GroupDto> {
    await this.get(tenantId, id);
    const ids = [...(dto.add ?? []), ...(dto.remove ?? [])];
    const known = await this.groups.existingContacts(tenantId, ids);
    const missing = [
      ...(dto.add ?? []).map((c, i) => [c, `add[${i}]`]),
      ...(dto.remove ?? []).map((c, i) => [c, `remove[${i}]`]),
    ].filter(([c]) => !known.has(c));
    if (missing.length) {
      const details = missing.map(([, path]) => ({ path, problem: 'no such contact' }));
      throw fail(COMMON_ERRORS.CONTACT_NOT_FOUND, 'Some contacts do not exist.', details, 422);
    }
    await this.db.transaction(async (m) => {
      await this.groups.changeMembers(m, tenantId, id, dto.add ?? [], dto.remove ?? [], ids);
      await contactsChanged(m, tenantId, ids);
    });
    return this.get(tenantId, id);
  }
}
