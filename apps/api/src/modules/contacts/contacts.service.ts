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

/** Writable contact fields: DTO name -> column. */
const COLUMNS = {
  externalId: 'external_id', name: 'name', phone: 'phone', email: 'email', ownerId: 'owner_id', timezone: 'timezone',
  attributes: 'attributes', orderCount: 'order_count', totalSpend: 'total_spend', spend30d: 'spend_30d',
  lastOrderAt: 'last_order_at', lastContactedAt: 'last_contacted_at', lastRespondedAt: 'last_responded_at',
} as const;

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

interface Row {
  id: string; external_id: string; name: string; phone: string | null; email: string | null; owner_id: string | null;
  timezone: string; attributes: Record<string, unknown>; order_count: number; total_spend: number; spend_30d: number;
  last_order_at: Date | null; last_contacted_at: Date | null; last_responded_at: Date | null;
  tags: ContactDto['tags']; created_at: Date; updated_at: Date;
}

export const toContactDto = (r: Row): ContactDto => ({
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
  ) {}

  async create(caller: Principal, dto: CreateContactDto): Promise<ContactDto> {
    const id = await this.db.transaction(async (m) => {
      await assertActiveUser(m, caller.tenantId, dto.ownerId);
      const fields = Object.entries(COLUMNS).filter(([k]) => dto[k as keyof CreateContactDto] !== undefined);
      const values = fields.map(([k]) => toColumnValue(dto[k as keyof CreateContactDto]));
      const created: { id: string }[] = await unlessTaken(EXTERNAL_ID_KEY, externalIdTaken(dto.externalId), () =>
        m.query(
          `INSERT INTO contacts (tenant_id, ${fields.map(([, c]) => c).join(', ')})
           VALUES ($1, ${fields.map((_, i) => `$${i + 2}`).join(', ')}) RETURNING id`,
          [caller.tenantId, ...values],
        ),
      );
      if (dto.tags?.length) {
        await this.tagWriter.change(caller.tenantId, [created[0].id], { add: dto.tags, reason: 'set at creation' }, actorOf(caller), m)
          .catch(renamePaths('add', 'tags'));
      } else {
        await contactsChanged(m, caller.tenantId, [created[0].id]);
      }
      return created[0].id as string;
    });
    return this.get(caller.tenantId, id);
  }

  async get(tenantId: string, id: string, m: EntityManager = this.db.manager): Promise<ContactDto> {
    const [row] = await m.query(`${SELECT} WHERE c.tenant_id = $1 AND c.id = $2`, [tenantId, id]);
    if (!row) throw notFound('contact', id);
    return toContactDto(row);
  }

  async list(tenantId: string, { limit, cursor }: PageQuery, { q, tagIds, ownerId }: { q?: string; tagIds?: string[]; ownerId?: string } = {}): Promise<Page<ContactDto>> {
    const params: unknown[] = [tenantId, limit + 1];
    let where = 'c.tenant_id = $1';
    if (cursor) {
      const [at, id] = decodeCursor(cursor);
      params.push(at, id);
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
    const rows: Row[] = tagIds?.length && (await this.someTagIsRare(tagIds))
      // Walking the tenant's contacts in order for a rare tag reads them all (2.4 s for a tag no one has among
      // 1,000,000): take the few that have it from the tag index, then order those.
      ? await this.db.query(
        `WITH m AS MATERIALIZED (SELECT c.id, c.created_at FROM contacts c WHERE ${where}),
              page AS (SELECT id FROM m ORDER BY created_at, id LIMIT $2)
         ${SELECT} JOIN page ON page.id = c.id ORDER BY c.created_at, c.id`, params)
      : await this.db.query(`${SELECT} WHERE ${where} ORDER BY c.created_at, c.id LIMIT $2`, params);
    return keysetPage(rows, limit, toContactDto);
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

  async update(tenantId: string, id: string, dto: UpdateContactDto): Promise<ContactDto> {
    return this.db.transaction(async (m) => {
      await assertActiveUser(m, tenantId, dto.ownerId);
      const fields = Object.entries(COLUMNS).filter(([k]) => dto[k as keyof UpdateContactDto] !== undefined);
      if (fields.length) {
        const sets = fields.map(([, c], i) => `${c} = $${i + 3}`).join(', ');
        const [, updated] = await unlessTaken(EXTERNAL_ID_KEY, externalIdTaken(dto.externalId ?? ''), () =>
          m.query(
            `UPDATE contacts SET ${sets}, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
            [tenantId, id, ...fields.map(([k]) => toColumnValue(dto[k as keyof UpdateContactDto]))],
          ),
        );
        if (!updated) throw notFound('contact', id);
        await m.query(`INSERT INTO domain_events (tenant_id, type, payload) VALUES ($1, 'contact.updated', $2)`, [
          tenantId, { contactIds: [id], fields: Object.keys(Object.fromEntries(fields)) },
        ]);
        await contactsChanged(m, tenantId, [id]);
      }
      return this.get(tenantId, id, m);
    });
  }

  async remove(tenantId: string, id: string): Promise<void> {
    const [, count] = await this.db.query(`DELETE FROM contacts WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    if (!count) throw notFound('contact', id);
  }

  /** Tag changes and responses, newest first. */
  async timeline(tenantId: string, id: string, limit = 100): Promise<TimelineEntryDto[]> {
    await this.get(tenantId, id);
    const rows: { type: string; at: Date; detail: Record<string, unknown> }[] = await this.db.query(
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
    return rows.map((r) => ({ type: r.type, at: r.at, detail: r.detail }));
  }

}

const toColumnValue = (v: unknown) => (v !== null && typeof v === 'object' && !(v instanceof Date) ? JSON.stringify(v) : v);

/** Tag errors name `add[i]`; on contact creation the field is `tags[i]`. */
function renamePaths(from: string, to: string) {
  return (err: unknown): never => {
    if (err instanceof AppError && err.details) {
      throw new AppError(err.code, err.status, err.message, err.details.map((d) => ({ ...d, path: d.path.replace(from, to) })));
    }
    throw err;
  };
}
