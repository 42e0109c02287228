import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queryable } from '@sop/engine';
import { DataSource } from 'typeorm';

export interface GroupRow { id: string; name: string; owner_id: string | null; member_count: number; created_at: Date }

const SELECT = `SELECT g.id, g.name, g.owner_id, g.created_at,
  (SELECT count(*)::int FROM group_members m WHERE m.group_id = g.id) AS member_count FROM customer_groups g`;

/**
 * The customer group aggregate: `customer_groups` and their `group_members`, the API's one home for that SQL, with the
 * members' change event (`domain_events`) written beside the change. Every statement is keyed by the caller's
 * organization (a group's members by the group, which is); those that run in the caller's transaction take its manager.
 */
@Injectable()
export class GroupsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async insert(tenantId: string, name: string, ownerId: string | null): Promise<string> {
    const [{ id }] = await this.db.query(`INSERT INTO customer_groups (tenant_id, name, owner_id) VALUES ($1, $2, $3) RETURNING id`, [
      tenantId, name, ownerId,
    ]);
    return id;
  }

  async find(tenantId: string, id: string): Promise<GroupRow | undefined> {
    const [row] = await this.db.query(`${SELECT} WHERE g.tenant_id = $1 AND g.id = $2`, [tenantId, id]);
    return row;
  }

  /** `limit` groups oldest first, after the cursor's (created_at, id) when there is one. */
  page(tenantId: string, limit: number, after?: [string, string]): Promise<GroupRow[]> {
    return this.db.query(
      `${SELECT} WHERE g.tenant_id = $1 ${after ? 'AND (g.created_at, g.id) > ($3, $4)' : ''} ORDER BY g.created_at, g.id LIMIT $2`,
      [tenantId, limit, ...(after ?? [])],
    );
  }

  /** Sets the name when given and the owner when `setOwner`. */
  async update(tenantId: string, id: string, name: string | null, setOwner: boolean, ownerId: string | null): Promise<void> {
    await this.db.query(
      `UPDATE customer_groups SET name = coalesce($3, name), owner_id = CASE WHEN $4 THEN $5::uuid ELSE owner_id END, updated_at = now()
        WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, name, setOwner, ownerId],
    );
  }

  /** Whether there was one to delete. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const [, count] = await this.db.query(`DELETE FROM customer_groups WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return !!count;
  }

  /** Which of the ids are the organization's contacts. */
  async existingContacts(tenantId: string, contactIds: string[]): Promise<Set<string>> {
    return new Set<string>(
      (await this.db.query(`SELECT id FROM contacts WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [tenantId, contactIds])).map((r: { id: string }) => r.id),
    );
  }

  /** Removes and adds members (adding twice changes nothing) and records the change as a domain event. */
  async changeMembers(m: Queryable, tenantId: string, id: string, add: string[], remove: string[], changed: string[]): Promise<void> {
    await m.query(`DELETE FROM group_members WHERE group_id = $1 AND contact_id = ANY($2::uuid[])`, [id, remove]);
    await m.query(
      `INSERT INTO group_members (tenant_id, group_id, contact_id) SELECT $1, $2, unnest($3::uuid[]) ON CONFLICT DO NOTHING`,
      [tenantId, id, add],
    );
    await m.query(`INSERT INTO domain_events (tenant_id, type, payload) VALUES ($1, 'group.members_changed', $2)`, [
      tenantId, { groupId: id, contactIds: changed },
    ]);
  }
}
