import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { contactsChanged } from '@sop/engine';
import { DataSource } from 'typeorm';
import { COMMON_ERRORS, fail, notFound } from '../../common/errors.catalog';
import { decodeCursor, keysetPage, type Page, type PageQuery } from '../../common/pagination';
import { assertActiveUser } from '../../common/tenant-scope';
import type { CreateGroupDto, GroupDto, GroupMembersDto, UpdateGroupDto } from './groups.dto';

interface Row { id: string; name: string; owner_id: string | null; member_count: number; created_at: Date }

const SELECT = `SELECT g.id, g.name, g.owner_id, g.created_at,
  (SELECT count(*)::int FROM group_members m WHERE m.group_id = g.id) AS member_count FROM customer_groups g`;
const toDto = (r: Row): GroupDto => ({ id: r.id, name: r.name, ownerId: r.owner_id, memberCount: r.member_count, createdAt: r.created_at });

/** Customer group chats, each run by an employee: the targets of group SOPs. */
@Injectable()
export class GroupsService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async create(tenantId: string, dto: CreateGroupDto): Promise<GroupDto> {
    await assertActiveUser(this.db, tenantId, dto.ownerId);
    const [{ id }] = await this.db.query(`INSERT INTO customer_groups (tenant_id, name, owner_id) VALUES ($1, $2, $3) RETURNING id`, [
      tenantId, dto.name.trim(), dto.ownerId ?? null,
    ]);
    return this.get(tenantId, id);
  }

  async get(tenantId: string, id: string): Promise<GroupDto> {
    const [row] = await this.db.query(`${SELECT} WHERE g.tenant_id = $1 AND g.id = $2`, [tenantId, id]);
    if (!row) throw notFound('group', id);
    return toDto(row);
  }

  async list(tenantId: string, { limit, cursor }: PageQuery): Promise<Page<GroupDto>> {
    const params: unknown[] = [tenantId, limit + 1, ...(cursor ? decodeCursor(cursor) : [])];
    const rows: Row[] = await this.db.query(
      `${SELECT} WHERE g.tenant_id = $1 ${cursor ? 'AND (g.created_at, g.id) > ($3, $4)' : ''} ORDER BY g.created_at, g.id LIMIT $2`,
      params,
    );
    return keysetPage(rows, limit, toDto);
  }

  async update(tenantId: string, id: string, dto: UpdateGroupDto): Promise<GroupDto> {
    await this.get(tenantId, id);
    await assertActiveUser(this.db, tenantId, dto.ownerId);
    await this.db.query(
      `UPDATE customer_groups SET name = coalesce($3, name), owner_id = CASE WHEN $4 THEN $5::uuid ELSE owner_id END, updated_at = now()
        WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, dto.name?.trim() ?? null, dto.ownerId !== undefined, dto.ownerId ?? null],
    );
    return this.get(tenantId, id);
  }

  async remove(tenantId: string, id: string): Promise<void> {
    const [, count] = await this.db.query(`DELETE FROM customer_groups WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    if (!count) throw notFound('group', id);
  }

  /** Adds and removes members; contacts of other tenants are refused by id, adding twice changes nothing. */
  async changeMembers(tenantId: string, id: string, dto: GroupMembersDto): Promise<GroupDto> {
    await this.get(tenantId, id);
    const ids = [...(dto.add ?? []), ...(dto.remove ?? [])];
    const known = new Set<string>(
      (await this.db.query(`SELECT id FROM contacts WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [tenantId, ids])).map((r: { id: string }) => r.id),
    );
    const missing = [
      ...(dto.add ?? []).map((c, i) => [c, `add[${i}]`]),
      ...(dto.remove ?? []).map((c, i) => [c, `remove[${i}]`]),
    ].filter(([c]) => !known.has(c));
    if (missing.length) {
      const details = missing.map(([, path]) => ({ path, problem: 'no such contact' }));
      throw fail(COMMON_ERRORS.CONTACT_NOT_FOUND, 'Some contacts do not exist.', details, 422);
    }
    await this.db.transaction(async (m) => {
      await m.query(`DELETE FROM group_members WHERE group_id = $1 AND contact_id = ANY($2::uuid[])`, [id, dto.remove ?? []]);
      await m.query(
        `INSERT INTO group_members (tenant_id, group_id, contact_id) SELECT $1, $2, unnest($3::uuid[]) ON CONFLICT DO NOTHING`,
        [tenantId, id, dto.add ?? []],
      );
      await m.query(`INSERT INTO domain_events (tenant_id, type, payload) VALUES ($1, 'group.members_changed', $2)`, [
        tenantId, { groupId: id, contactIds: ids },
      ]);
      await contactsChanged(m, tenantId, ids);
    });
    return this.get(tenantId, id);
  }

}
