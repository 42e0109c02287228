import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queryable } from '@sop/engine';
import { DataSource } from 'typeorm';
import type { SourceCodeRecord } from './source-codes.dto';
import type { ContactWay } from './wecom-contact-way';

export interface SourceCodeRow {
  id: string; code: string; name: string; tag_ids: string[]; owner_id: string | null; created_at: Date;
  wecom_config_id: string | null; wecom_qr_code: string | null; wecom_user_ids: string[] | null; wecom_way_user_ids: string[] | null;
  /** read with the code (LEFTOVER), absent from rows an UPDATE returned */
  wecom_leftover?: SourceCodeRecord['wecomLeftover'];
}

export interface SourceCodeFields { code: string; name: string; tagIds: string[]; ownerId: string | null }

export interface ContactWayLeftover { id: string; config_id: string; corp_id: string }

/** The code's WeCom leftovers (configs still to delete in WeCom), as one object or null; `c` is the code's alias. */
const LEFTOVER = `(SELECT jsonb_build_object('configIds', jsonb_agg(l.config_id ORDER BY l.id), 'corpId', (array_agg(l.corp_id ORDER BY l.tried_at DESC))[1],
    'reason', (array_agg(l.reason ORDER BY l.tried_at DESC))[1], 'error', (array_agg(l.last_error ORDER BY l.tried_at DESC))[1],
    'since', min(l.created_at), 'triedAt', max(l.tried_at))
  FROM wecom_contact_way_leftovers l WHERE l.tenant_id = c.tenant_id AND l.source_code_id = c.id HAVING count(*) > 0) AS wecom_leftover`;

/**
 * Source codes: the `source_codes` rows with their WeCom contact way, and the code's `wecom_contact_way_leftovers`
 * (configs still to delete in WeCom), the API's one home for that SQL; also the arrival's upsert of the contact
 * (the engine's `arriveThroughCode` does the rest) and the read of which WeCom members a contact way's users are.
 * Every statement is keyed by the caller's organization, but the public join page's, which are keyed by the code's
 * id; those that run in the caller's transaction take its manager.
 */
@Injectable()
export class SourceCodesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Inserts the code (a taken code fails on source_codes_tenant_code_key). */
  async insert(m: Queryable, tenantId: string, f: SourceCodeFields): Promise<SourceCodeRow> {
    const [row] = await m.query(`INSERT INTO source_codes (tenant_id, code, name, tag_ids, owner_id) VALUES ($1, $2, $3, $4, $5) RETURNING *`, [
      tenantId, f.code, f.name, f.tagIds, f.ownerId,
    ]);
    return row;
  }

  /** Keeps a code's contact way (or its absence) on its row. */
  async saveWay(m: Queryable, tenantId: string, id: string, way: ContactWay | null): Promise<SourceCodeRow> {
    return (await m.query(
      `UPDATE source_codes SET wecom_config_id = $3, wecom_qr_code = $4, wecom_user_ids = $5, wecom_way_user_ids = $6, updated_at = now()
      WHERE tenant_id = $1 AND id = $2 RETURNING *`,
      [tenantId, id, way?.configId ?? null, way?.qrCode ?? null, way?.wecomUserIds ?? null, way?.userIds ?? null]))[0][0];
  }

  /** Every code with its leftovers, by code. */
  list(tenantId: string): Promise<SourceCodeRow[]> {
    return this.db.query(`SELECT c.*, ${LEFTOVER} FROM source_codes c WHERE c.tenant_id = $1 ORDER BY c.code`, [tenantId]);
  }

  /** The code with its leftovers; in the caller's transaction when `m` is given (to see its own writes). */
  async findWithLeftover(tenantId: string, id: string, m: Queryable = this.db): Promise<SourceCodeRow | undefined> {
    const [row] = await m.query(`SELECT c.*, ${LEFTOVER} FROM source_codes c WHERE c.tenant_id = $1 AND c.id = $2`, [tenantId, id]);
    return row;
  }

  async find(tenantId: string, id: string): Promise<SourceCodeRow | undefined> {
    const [row] = await this.db.query(`SELECT * FROM source_codes WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return row;
  }

  /** The code's row locked FOR UPDATE until the caller's transaction ends: edits, deletes and leftover clean-ups of one code take turns. */
  async lock(m: Queryable, tenantId: string, id: string): Promise<SourceCodeRow | undefined> {
    const [row] = await m.query(`SELECT * FROM source_codes WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [tenantId, id]);
    return row;
  }

  /** Sets the code's fields (a taken code fails on source_codes_tenant_code_key). */
  async update(m: Queryable, tenantId: string, id: string, f: SourceCodeFields): Promise<void> {
    await m.query(
      `UPDATE source_codes SET code = $3, name = $4, tag_ids = $5, owner_id = $6, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, f.code, f.name, f.tagIds, f.ownerId],
    );
  }

  async delete(m: Queryable, tenantId: string, id: string): Promise<void> {
    await m.query(`DELETE FROM source_codes WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  }

  /** The code's leftovers, oldest first. */
  leftovers(m: Queryable, tenantId: string, id: string): Promise<ContactWayLeftover[]> {
    return m.query(`SELECT id, config_id, corp_id FROM wecom_contact_way_leftovers WHERE tenant_id = $1 AND source_code_id = $2 ORDER BY id`, [tenantId, id]);
  }

  async forgetLeftovers(m: Queryable, tenantId: string, id: string, leftoverIds: string[]): Promise<void> {
    await m.query(`DELETE FROM wecom_contact_way_leftovers WHERE tenant_id = $1 AND source_code_id = $2 AND id = ANY($3::bigint[])`,
      [tenantId, id, leftoverIds]);
  }

  /** After a retry in WeCom, together: the configs deleted there are forgotten, the ones still failing keep their new error (config id → error). */
  async settleLeftovers(tenantId: string, id: string, deleted: string[], failed: Map<string, string>): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query(`DELETE FROM wecom_contact_way_leftovers WHERE tenant_id = $1 AND source_code_id = $2 AND config_id = ANY($3::text[])`, [tenantId, id, deleted]);
      await m.query(
        `UPDATE wecom_contact_way_leftovers l SET last_error = x.e, attempts = l.attempts + 1, tried_at = now()
           FROM unnest($3::text[], $4::text[]) AS x(c, e) WHERE l.tenant_id = $1 AND l.source_code_id = $2 AND l.config_id = x.c`,
        [tenantId, id, [...failed.keys()], [...failed.values()]]);
    });
  }

  /**
   * Creates the contact or finds it by external id, filling the name when it has none and the phone and email when
   * given; `fromPublicForm` (an anonymous visitor) never renames a named contact. Whether it was created.
   */
  async upsertArrivingContact(
    m: Queryable, tenantId: string, c: { externalId: string; name: string | null; phone: string | null; email: string | null }, fromPublicForm: boolean,
  ): Promise<{ id: string; created: boolean }> {
    const [contact] = await m.query(
      `INSERT INTO contacts (tenant_id, external_id, name, phone, email) VALUES ($1, $2, coalesce($3, ''), $4, $5)
       ON CONFLICT (tenant_id, external_id) DO UPDATE SET
         name = CASE WHEN $6 AND contacts.name <> '' THEN contacts.name ELSE coalesce(nullif(EXCLUDED.name, ''), contacts.name) END,
         phone = coalesce(EXCLUDED.phone, contacts.phone),
         email = coalesce(EXCLUDED.email, contacts.email), updated_at = now()
       RETURNING id, (xmax = 0) AS created`,
      [tenantId, c.externalId, c.name, c.phone, c.email, fromPublicForm],
    );
    return contact;
  }

  /** The public join page's read, by the code's id alone: the name of the organization it leads to. */
  async organizationOfCode(id: string): Promise<{ organization: string } | undefined> {
    const [row] = await this.db.query(`SELECT t.name AS organization FROM source_codes c JOIN tenants t ON t.id = c.tenant_id WHERE c.id = $1`, [id]);
    return row;
  }

  /** The public join page's read, by the code's id alone: its organization and code. */
  async codeById(id: string): Promise<{ tenant_id: string; code: string } | undefined> {
    const [code]: { tenant_id: string; code: string }[] = await this.db.query(`SELECT tenant_id, code FROM source_codes WHERE id = $1`, [id]);
    return code;
  }

  /** The active WeCom members the users are matched to. */
  activeWecomMembers(m: Queryable, tenantId: string, userIds: string[]): Promise<{ user_id: string; wecom_user_id: string }[]> {
    return m.query(
      `SELECT user_id, wecom_user_id FROM wecom_users WHERE tenant_id = $1 AND user_id = ANY($2::uuid[]) AND active`, [tenantId, userIds]);
  }
}
