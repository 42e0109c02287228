import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queryable } from '@sop/engine';
import { DataSource } from 'typeorm';
import type { ContactDto } from './contacts.dto';

/** Writable contact fields: DTO name -> column. */
const COLUMNS = {
  externalId: 'external_id', name: 'name', phone: 'phone', email: 'email', ownerId: 'owner_id', timezone: 'timezone',
  attributes: 'attributes', orderCount: 'order_count', totalSpend: 'total_spend', spend30d: 'spend_30d',
  lastOrderAt: 'last_order_at', lastContactedAt: 'last_contacted_at', lastRespondedAt: 'last_responded_at',
} as const;

export type ContactField = keyof typeof COLUMNS;
export type ContactFields = { [K in ContactField]?: unknown };

/** The writable fields the DTO sets (not undefined), in the columns' order. */
export const contactFieldsOf = (dto: ContactFields): ContactField[] =>
  (Object.keys(COLUMNS) as ContactField[]).filter((k) => dto[k] !== undefined);

/** Below this many contacts a tag filter lists from the tag's contacts, above it by walking contacts in order. */
const RARE_TAG = 10_000;

const SELECT = `
  SELECT c.id, c.external_id, c.name, c.phone, c.email, c.owner_id, c.timezone, c.attributes, c.order_count,
         c.total_spend::float8 AS total_spend, c.spend_30d::float8 AS spend_30d, c.last_order_at, c.last_contacted_at,
         c.last_responded_at, c.created_at, c.updated_at,
         coalesce((SELECT json_agg(json_build_object('id', t.id, 'name', t.name, 'groupId', t.group_id, 'color', t.color,
                     'weight', ct.weight::float8) ORDER BY t.num)
                   FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = c.id), '[]') AS tags
    FROM contacts c`;

export interface ContactRow {
  id: string; external_id: string; name: string; phone: string | null; email: string | null; owner_id: string | null;
  timezone: string; attributes: Record<string, unknown>; order_count: number; total_spend: number; spend_30d: number;
  last_order_at: Date | null; last_contacted_at: Date | null; last_responded_at: Date | null;
  tags: ContactDto['tags']; created_at: Date; updated_at: Date;
}

export interface TimelineRow { type: string; at: Date; detail: Record<string, unknown> }

export interface ContactFilter { after?: [string, string]; q?: string; tagIds?: string[]; ownerId?: string }

const toColumnValue = (v: unknown) => (v !== null && typeof v === 'object' && !(v instanceof Date) ? JSON.stringify(v) : v);

/**
 * The contact aggregate: `contacts` read with their tags (`contact_tags`, `tags`), the `contact.updated` event written
 * beside a change (`domain_events`), and the timeline of a contact's tag events and responses: the API's one home for
 * that SQL (the engine's `changeTags` writes contacts' tags). Every statement is keyed by the caller's organization;
 * those that run in the caller's transaction take its manager.
 */
@Injectable()
export class ContactsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Inserts the contact with the fields the DTO sets; its id. */
  async insert(m: Queryable, tenantId: string, dto: ContactFields): Promise<string> {
    const fields = contactFieldsOf(dto);
    const created: { id: string }[] = await m.query(
      `INSERT INTO contacts (tenant_id, ${fields.map((k) => COLUMNS[k]).join(', ')})
           VALUES ($1, ${fields.map((_, i) => `$${i + 2}`).join(', ')}) RETURNING id`,
      [tenantId, ...fields.map((k) => toColumnValue(dto[k]))],
    );
    return created[0].id;
  }

  async find(tenantId: string, id: string, m: Queryable = this.db): Promise<ContactRow | undefined> {
    const [row] = await m.query(`${SELECT} WHERE c.tenant_id = $1 AND c.id = $2`, [tenantId, id]);
    return row;
  }

  /** `limit` contacts oldest first, after the cursor's (created_at, id) when there is one, matching the filter. */
  async page(tenantId: string, limit: number, { after, q, tagIds, ownerId }: ContactFilter): Promise<ContactRow[]> {
    const params: unknown[] = [tenantId, limit];
    let where = 'c.tenant_id = $1';
    if (after) {
      params.push(...after);
      where += ` AND (c.created_at, c.id) > ($3, $4)`;
    }
    if (q) {
      params.push(q);
      where += ` AND (c.external_id = $${params.length} OR c.name ILIKE '%' || $${params.length} || '%' OR c.phone = $${params.length})`;
    }
    if (tagIds?.length) {
      // tag_nums carries the contact's tags as numbers (GIN-indexed); a tag of another tenant matches nothing.
      params.push(tagIds);
      where += ` AND c.tag_nums @> ARRAY(SELECT t.num FROM tags t WHERE t.tenant_id = $1 AND t.id = ANY($${params.length}::uuid[]))`
        + ` AND cardinality(ARRAY(SELECT t.num FROM tags t WHERE t.tenant_id = $1 AND t.id = ANY($${params.length}::uuid[]))) = cardinality($${params.length}::uuid[])`;
    }
    if (ownerId) {
      params.push(ownerId);
      where += ` AND c.owner_id = $${params.length}`;
    }
    return tagIds?.length && (await this.someTagIsRare(tagIds))
      // Walking the tenant's contacts in order for a rare tag reads them all (2.4 s for a tag no one has among
      // 1,000,000): take the few that have it from the tag index, then order those.
      ? this.db.query(
        `WITH m AS MATERIALIZED (SELECT c.id, c.created_at FROM contacts c WHERE ${where}),
              page AS (SELECT id FROM m ORDER BY created_at, id LIMIT $2)
         ${SELECT} JOIN page ON page.id = c.id ORDER BY c.created_at, c.id`, params)
      : this.db.query(`${SELECT} WHERE ${where} ORDER BY c.created_at, c.id LIMIT $2`, params);
  }

  /** Whether fewer than RARE_TAG contacts have one of these tags (counting stops there: a few ms at most). */
  private async someTagIsRare(tagIds: string[]): Promise<boolean> {
    const [{ rare }] = await this.db.query(
      `SELECT coalesce(bool_or(n < ${RARE_TAG}), true) AS rare
         FROM unnest($1::uuid[]) tag(id)
        CROSS JOIN LATERAL (SELECT count(*) AS n FROM (SELECT 1 FROM contact_tags ct WHERE ct.tag_id = tag.id LIMIT ${RARE_TAG}) x) c`,
      [tagIds],
    );
    return rare;
  }

  /** Sets the fields the DTO sets (at least one); how many rows it changed (0: no such contact). */
  async update(m: Queryable, tenantId: string, id: string, dto: ContactFields): Promise<number> {
    const fields = contactFieldsOf(dto);
    const sets = fields.map((k, i) => `${COLUMNS[k]} = $${i + 3}`).join(', ');
    const [, updated] = await m.query(
      `UPDATE contacts SET ${sets}, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, ...fields.map((k) => toColumnValue(dto[k]))],
    );
    return updated;
  }

  /** Records which fields of the contact changed (`contact.updated`). */
  async recordUpdated(m: Queryable, tenantId: string, id: string, fields: ContactField[]): Promise<void> {
    await m.query(`INSERT INTO domain_events (tenant_id, type, payload) VALUES ($1, 'contact.updated', $2)`, [
      tenantId, { contactIds: [id], fields },
    ]);
  }

  /** Whether there was one to delete. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const [, count] = await this.db.query(`DELETE FROM contacts WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return !!count;
  }

  /** Tag changes and responses, newest first. */
  timeline(tenantId: string, id: string, limit: number): Promise<TimelineRow[]> {
    return this.db.query(
      `(SELECT 'tag.' || e.action AS type, e.at, e.id AS seq, json_build_object('tagId', e.tag_id, 'tag', t.name, 'by', e.actor_type,
              'actorId', e.actor_id, 'reason', e.reason) AS detail
          FROM tag_events e JOIN tags t ON t.id = e.tag_id
         WHERE e.tenant_id = $1 AND e.contact_id = $2
         ORDER BY e.at DESC, e.id DESC LIMIT $3)
       UNION ALL
       (SELECT 'response.' || r.kind, r.occurred_at, r.id, json_strip_nulls(json_build_object('responseId', r.id::text, 'source', r.source,
              'outcome', r.outcome, 'name', r.name, 'amount', r.amount::float8, 'taskId', r.task_id::text, 'sopId', r.sop_id,
              'stepIndex', r.step_index, 'material', r.material, 'eventId', r.event_id, 'data', r.data))
          FROM responses r
         WHERE r.tenant_id = $1 AND r.contact_id = $2
         ORDER BY r.occurred_at DESC, r.id DESC LIMIT $3)
       ORDER BY at DESC, seq DESC LIMIT $3`,
      [tenantId, id, limit],
    );
  }
}
