import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { User } from '@sop/db';
import type { WecomSyncKind } from '@sop/workflows';
import { DataSource, type EntityManager } from 'typeorm';
import type { LeftoverReason } from './contact-way-leftovers';

/** The sealed secrets' columns of `wecom_connections`, by the field the API names them. */
export const SECRET_COLUMN = {
  contactSecret: 'contact_secret', agentSecret: 'agent_secret', callbackToken: 'callback_token', encodingAesKey: 'encoding_aes_key',
} as const;
export type SecretField = keyof typeof SECRET_COLUMN;

export interface RunRow {
  id: string;
  kind: 'full' | 'incremental';
  status: 'running' | 'succeeded' | 'failed';
  started_at: Date;
  finished_at: Date | null;
  counts: Record<string, number>;
  error: string | null;
}
const RUN_COLUMNS = `id::text, kind, status, started_at, finished_at, counts, error`;

export interface MemberRow {
  wecom_user_id: string; name: string; email: string | null; active: boolean; user_id: string | null; user_name: string | null;
  matched_by: 'email' | 'hand' | null; synced_at: Date;
}

/** What the connection's status shows: the row (secrets sealed) with its callbacks' and tag pushes' figures. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the row as the driver gives it, shaped by the service
export type ConnectionStatusRow = Record<string, any>;

/**
 * A tenant's WeCom connection (`wecom_connections`), what the callbacks and pushes left about it, its sync runs
 * (`wecom_sync_runs`) and the corporation's members as we match them (`wecom_users`): the API's one home for that
 * SQL. The worker's sync and event statements live with its activities; the callback keeper writes events itself,
 * batched. Every statement is keyed by the caller's organization, except the callback address's lookup (the
 * address is the key).
 */
@Injectable()
export class WecomRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Runs `work` in one transaction. */
  transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async connectionStatus(tenantId: string): Promise<ConnectionStatusRow | undefined> {
    const [row] = await this.db.query(
      `SELECT c.*, (SELECT count(*)::int FROM wecom_callback_events e WHERE e.tenant_id = c.tenant_id AND e.received_at > now() - interval '1 day') AS events_last_day,
              (SELECT count(*)::int FROM wecom_callback_events e WHERE e.tenant_id = c.tenant_id AND e.processed_at IS NULL) AS events_waiting,
              (SELECT max(processed_at) FROM wecom_callback_events e WHERE e.tenant_id = c.tenant_id AND e.processed_at > now() - interval '30 days') AS last_processed_at,
              (SELECT jsonb_build_object('at', e.processed_at, 'event', e.event, 'changeType', e.change_type, 'message', e.error)
                 FROM wecom_callback_events e WHERE e.tenant_id = c.tenant_id AND e.error IS NOT NULL ORDER BY e.processed_at DESC LIMIT 1) AS last_event_error,
              (SELECT count(*)::int FROM wecom_tag_pushes p WHERE p.tenant_id = c.tenant_id AND p.error IS NULL)
                + (SELECT count(*)::int FROM wecom_corp_tag_ops o WHERE o.tenant_id = c.tenant_id AND o.done_at IS NULL) AS tag_pushes_waiting,
              (SELECT count(*)::int FROM wecom_tag_pushes p WHERE p.tenant_id = c.tenant_id AND p.error IS NOT NULL) AS tag_pushes_failed,
              (SELECT count(*)::int FROM wecom_tag_pushes p WHERE p.tenant_id = c.tenant_id AND p.error IS NOT NULL AND p.given_up) AS tag_pushes_given_up,
              (SELECT jsonb_build_object('at', p.failed_at, 'kind', 'contact_tags', 'id', p.contact_id, 'message', p.error) FROM wecom_tag_pushes p
                WHERE p.tenant_id = c.tenant_id AND p.error IS NOT NULL AND p.given_up ORDER BY p.failed_at DESC LIMIT 1) AS last_tag_push_given_up,
              (SELECT jsonb_build_object('at', x.at, 'kind', x.kind, 'id', x.id, 'message', x.error) FROM (
                 (SELECT p.failed_at AS at, 'contact_tags' AS kind, p.contact_id AS id, p.error FROM wecom_tag_pushes p
                   WHERE p.tenant_id = c.tenant_id AND p.error IS NOT NULL ORDER BY p.failed_at DESC LIMIT 1)
                 UNION ALL
                 (SELECT o.done_at, o.kind, coalesce(o.tag_id, o.group_id), o.error FROM wecom_corp_tag_ops o
                   WHERE o.tenant_id = c.tenant_id AND o.error IS NOT NULL ORDER BY o.done_at DESC LIMIT 1)
                 ORDER BY 1 DESC LIMIT 1) x) AS last_tag_push_error
         FROM wecom_connections c WHERE c.tenant_id = $1`, [tenantId]);
    return row;
  }

  /** Saves the connection (sealed secrets in SECRET_COLUMN order); a save over an existing one clears its last error. */
  async saveConnection(tenantId: string, corpId: string, agentId: string, sealed: string[], last4: Record<string, string>, callbackId: string): Promise<void> {
    await this.db.query(
      `INSERT INTO wecom_connections (tenant_id, corp_id, agent_id, contact_secret, agent_secret, callback_token, encoding_aes_key, secrets_last4, callback_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (tenant_id) DO UPDATE SET corp_id = excluded.corp_id, agent_id = excluded.agent_id, contact_secret = excluded.contact_secret,
         agent_secret = excluded.agent_secret, callback_token = excluded.callback_token, encoding_aes_key = excluded.encoding_aes_key,
         secrets_last4 = excluded.secrets_last4, updated_at = now(), last_error = NULL, last_error_at = NULL`,
      [tenantId, corpId, agentId, ...sealed, JSON.stringify(last4), callbackId],
    );
  }

  /** The sealed secrets of the connection, by field; undefined without one. */
  async sealedSecrets(tenantId: string): Promise<Record<SecretField, string> | undefined> {
    const [row] = await this.db.query(`SELECT ${Object.values(SECRET_COLUMN).join(', ')} FROM wecom_connections WHERE tenant_id = $1`, [tenantId]);
    return row && Object.fromEntries(Object.entries(SECRET_COLUMN).map(([field, column]) => [field, row[column]])) as Record<SecretField, string>;
  }

  /** The corporation and its sealed customer-contact secret; undefined without a connection. */
  async contactSecret(tenantId: string): Promise<{ corp_id: string; contact_secret: string } | undefined> {
    const [row] = await this.db.query(`SELECT corp_id, contact_secret FROM wecom_connections WHERE tenant_id = $1`, [tenantId]);
    return row;
  }

  /** The corporation the tenant is connected to, or null. */
  async corpId(tenantId: string): Promise<string | null> {
    const [row] = await this.db.query(`SELECT corp_id FROM wecom_connections WHERE tenant_id = $1`, [tenantId]);
    return row?.corp_id ?? null;
  }

  /** The connection behind a callback address, its callback secrets sealed; undefined for an address no one has. */
  async byCallbackId(callbackId: string): Promise<{ tenant_id: string; corp_id: string; callback_token: string; encoding_aes_key: string } | undefined> {
    const [row] = await this.db.query(`SELECT tenant_id, corp_id, callback_token, encoding_aes_key FROM wecom_connections WHERE callback_id = $1`, [callbackId]);
    return row;
  }

  /** Channel codes with a WeCom contact-me configuration; `lockedIn`: locked in that transaction, in id order. */
  contactWayCodes(tenantId: string, lockedIn?: EntityManager): Promise<{ id: string; config_id: string }[]> {
    return (lockedIn ?? this.db).query(
      `SELECT id, wecom_config_id AS config_id FROM source_codes WHERE tenant_id = $1 AND wecom_config_id IS NOT NULL${lockedIn ? ' ORDER BY id FOR UPDATE' : ''}`, [tenantId]);
  }

  /** Contact-me configurations whose deletion in the corporation's WeCom failed before. */
  leftovers(tenantId: string, corpId: string): Promise<{ source_code_id: string; config_id: string; reason: LeftoverReason }[]> {
    return this.db.query(`SELECT source_code_id, config_id, reason FROM wecom_contact_way_leftovers WHERE tenant_id = $1 AND corp_id = $2`, [tenantId, corpId]);
  }

  /**
   * The end of a disconnect, in its transaction: leftovers now deleted in WeCom are forgotten, channel codes forget
   * their QR codes (without the connection they could be neither changed nor deleted in WeCom, and a code still
   * naming one could not be edited or deleted here), and the connection row goes.
   */
  async forgetConnection(m: EntityManager, tenantId: string, corpId: string, deletedLeftovers: string[]): Promise<void> {
    await m.query(`DELETE FROM wecom_contact_way_leftovers WHERE tenant_id = $1 AND corp_id = $2 AND config_id = ANY($3::text[])`, [tenantId, corpId, deletedLeftovers]);
    await m.query(
      `UPDATE source_codes SET wecom_config_id = NULL, wecom_qr_code = NULL, wecom_user_ids = NULL, wecom_way_user_ids = NULL, updated_at = now()
        WHERE tenant_id = $1 AND wecom_config_id IS NOT NULL`, [tenantId]);
    await m.query(`DELETE FROM wecom_connections WHERE tenant_id = $1`, [tenantId]);
  }

  // ------------------------------------------------------------------ sync runs and members

  /** The tenant's latest sync run, for the connection's status. */
  async latestRun(tenantId: string): Promise<RunRow | undefined> {
    const [row] = await this.db.query(`SELECT ${RUN_COLUMNS} FROM wecom_sync_runs WHERE tenant_id = $1 ORDER BY started_at DESC, id DESC LIMIT 1`, [tenantId]);
    return row;
  }

  /** The 20 latest runs. */
  runs(tenantId: string): Promise<RunRow[]> {
    return this.db.query(`SELECT ${RUN_COLUMNS} FROM wecom_sync_runs WHERE tenant_id = $1 ORDER BY started_at DESC, id DESC LIMIT 20`, [tenantId]);
  }

  /**
   * Runs `work` in a transaction holding the tenant's sync lock (the lock the workflow's first activity takes), with
   * the running run, if any.
   */
  underSyncLock<T>(tenantId: string, work: (m: EntityManager, running: RunRow | undefined) => Promise<T>): Promise<T> {
    return this.db.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtextextended('wecom-sync:' || $1, 0))`, [tenantId]);
      const [running]: RunRow[] = await m.query(`SELECT ${RUN_COLUMNS} FROM wecom_sync_runs WHERE tenant_id = $1 AND status = 'running' ORDER BY id DESC LIMIT 1`, [tenantId]);
      return work(m, running);
    });
  }

  /** A new run of `kind`, or a full one when no sync ever succeeded (nothing to be incremental to: the workflow agrees). */
  async insertRun(m: EntityManager, tenantId: string, kind: WecomSyncKind): Promise<RunRow> {
    const [row] = await m.query(
      `INSERT INTO wecom_sync_runs (tenant_id, kind)
       SELECT $1, CASE WHEN EXISTS (SELECT 1 FROM wecom_sync_runs WHERE tenant_id = $1 AND status = 'succeeded') THEN $2 ELSE 'full' END
       RETURNING ${RUN_COLUMNS}`, [tenantId, kind]);
    return row;
  }

  /** The corporation's members with the user each is matched to; `only`: that member alone. */
  members(tenantId: string, only?: string): Promise<MemberRow[]> {
    return this.db.query(
      `SELECT wu.wecom_user_id, wu.name, wu.email, wu.active, wu.user_id, u.name AS user_name, wu.matched_by, wu.synced_at
         FROM wecom_users wu LEFT JOIN users u ON u.tenant_id = wu.tenant_id AND u.id = wu.user_id
        WHERE wu.tenant_id = $1 AND ($2::text IS NULL OR wu.wecom_user_id = $2)
        ORDER BY wu.active DESC, wu.name, wu.wecom_user_id`,
      [tenantId, only ?? null],
    );
  }

  /**
   * Matches a member to a user by hand (null: unmatches it), in one transaction: 'no member' or 'no user' (not an
   * active user of the organization) when one is missing, and nothing changed. A user is one member at most: the
   * member it was matched to before is unmatched. matched_at moves, so the next incremental sync reads the members'
   * customers again and their owners follow the match.
   */
  matchByHand(tenantId: string, wecomUserId: string, userId: string | null): Promise<'matched' | 'no member' | 'no user'> {
    return this.db.transaction(async (m) => {
      const [member] = await m.query(`SELECT 1 FROM wecom_users WHERE tenant_id = $1 AND wecom_user_id = $2 FOR UPDATE`, [tenantId, wecomUserId]);
      if (!member) return 'no member';
      if (userId !== null) {
        const [user] = await m.query(`SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2 AND disabled_at IS NULL`, [tenantId, userId]);
        if (!user) return 'no user';
        await m.query(
          `UPDATE wecom_users SET user_id = NULL, matched_by = NULL, matched_at = now() WHERE tenant_id = $1 AND user_id = $2 AND wecom_user_id <> $3`,
          [tenantId, userId, wecomUserId],
        );
      }
      await m.query(`UPDATE wecom_users SET user_id = $3, matched_by = 'hand', matched_at = now() WHERE tenant_id = $1 AND wecom_user_id = $2`, [tenantId, wecomUserId, userId]);
      return 'matched';
    });
  }

  /**
   * Queues the creation of one of our tag groups in WeCom (once: nothing more while one is queued), in one
   * transaction; 'no group', 'linked' (it is a WeCom group already) and 'empty' (no tags) queue nothing.
   */
  queueTagGroupPush(tenantId: string, groupId: string): Promise<'queued' | 'no group' | 'linked' | 'empty'> {
    return this.db.transaction(async (m) => {
      const [group] = await m.query(
        `SELECT g.wecom_group_id, (SELECT count(*)::int FROM tags t WHERE t.tenant_id = $1 AND t.group_id = g.id) AS tags
           FROM tag_groups g WHERE g.tenant_id = $1 AND g.id = $2 FOR UPDATE`, [tenantId, groupId]);
      if (!group) return 'no group';
      if (group.wecom_group_id) return 'linked';
      if (!group.tags) return 'empty';
      await m.query(
        `INSERT INTO wecom_corp_tag_ops (tenant_id, kind, group_id) SELECT $1, 'create_group', $2
          WHERE NOT EXISTS (SELECT 1 FROM wecom_corp_tag_ops WHERE tenant_id = $1 AND group_id = $2 AND kind = 'create_group' AND done_at IS NULL)`,
        [tenantId, groupId]);
      return 'queued';
    });
  }

  async connected(tenantId: string): Promise<boolean> {
    const [row] = await this.db.query(`SELECT 1 FROM wecom_connections WHERE tenant_id = $1`, [tenantId]);
    return Boolean(row);
  }

  /** The enabled user an active member is matched to, for signing in through WeCom. */
  async signInUser(tenantId: string, wecomUserId: string): Promise<Pick<User, 'id' | 'tenantId' | 'role'> | undefined> {
    const [user] = await this.db.query(
      `SELECT u.id, u.tenant_id AS "tenantId", u.role FROM wecom_users wu
         JOIN users u ON u.tenant_id = wu.tenant_id AND u.id = wu.user_id AND u.disabled_at IS NULL
        WHERE wu.tenant_id = $1 AND wu.wecom_user_id = $2 AND wu.active`, [tenantId, wecomUserId]);
    return user;
  }
}
