import { WecomApiError, type WecomClient, WecomUnreachable } from '@sop/wecom';
import type { EntityManager } from 'typeorm';
import { AppError } from '@sop/domain';

/**
 * WeCom "contact me" configurations (`config_id`) a channel code no longer uses that WeCom may still hold: WeCom
 * keeps a configuration made through the API until `del_contact_way` deletes it (its admin console does not show
 * those), so a config id we forget is one no one can delete any more. When `del_contact_way` fails (WeCom out of
 * reach, an errcode, the secrets unreadable), the id is kept here, on its code, until a retry deletes it or an
 * ops/admin user forgets it (`DELETE /api/source-codes/{id}/wecom-leftover`).
 */
export type LeftoverReason = 'disconnected' | 'removed' | 'replaced';

export interface Leftover {
  sourceCodeId: string;
  configId: string;
  reason: LeftoverReason;
  error: string;
}

/** The config id WeCom does not know (deleted there, or by an earlier attempt): counts as deleted. */
const UNKNOWN_CONFIG = 40058;

/** Deleted in WeCom; one WeCom no longer has counts as deleted. Throws WeCom's refusal or its absence. */
export async function deleteContactWay(client: WecomClient, configId: string): Promise<void> {
  try {
    await client.post('/cgi-bin/externalcontact/del_contact_way', { config_id: configId });
  } catch (err) {
    if (err instanceof WecomApiError && err.errcode === UNKNOWN_CONFIG) return;
    throw err;
  }
}

/** Why a deletion failed, for a person: WeCom's errcode, WeCom out of reach, or our own refusal's message. Null for anything else (a bug: rethrown). */
export function failureText(err: unknown): string | null {
  if (err instanceof WecomApiError) return `WeCom refused del_contact_way (errcode ${err.errcode}: ${err.errmsg})`;
  if (err instanceof WecomUnreachable) return err.message;
  if (err instanceof AppError) return err.message;
  return null;
}

/** Keeps (or, for a config already kept, updates) leftovers in the caller's transaction. */
export async function keepLeftovers(m: EntityManager, tenantId: string, corpId: string, leftovers: Leftover[]): Promise<void> {
  if (!leftovers.length) return;
  await m.query(
    `INSERT INTO wecom_contact_way_leftovers (tenant_id, source_code_id, corp_id, config_id, reason, last_error)
     SELECT $1, x.s, $2, x.c, x.r, x.e FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[]) AS x(s, c, r, e)
     ON CONFLICT (tenant_id, corp_id, config_id) DO UPDATE
       SET last_error = excluded.last_error, attempts = wecom_contact_way_leftovers.attempts + 1, tried_at = now()`,
    [tenantId, corpId, leftovers.map((l) => l.sourceCodeId), leftovers.map((l) => l.configId), leftovers.map((l) => l.reason), leftovers.map((l) => l.error)]);
}

/**
 * Tries to delete each config in WeCom, at most 4 at once. WeCom out of reach stops the calls not made yet (they
 * fail with the same error: one unreachable WeCom costs one timeout, not one per code). Answers the error of each
 * config that is still in WeCom (a config absent from `failed` was deleted), and whether WeCom was out of reach.
 * `client` is the error that stopped us from making one (no connection, unreadable secrets): every config fails with it.
 */
export async function deleteContactWays(client: WecomClient | Error, configIds: string[]): Promise<{ failed: Map<string, string>; unreachable: boolean }> {
  const failed = new Map<string, string>();
  if (client instanceof Error) {
    for (const id of configIds) failed.set(id, failureText(client) ?? client.message);
    return { failed, unreachable: false };
  }
  let unreachable: string | null = null;
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < configIds.length; i = next++) {
      const id = configIds[i];
      if (unreachable) {
        failed.set(id, unreachable);
        continue;
      }
      try {
        await deleteContactWay(client, id);
      } catch (err) {
        const text = failureText(err);
        if (text === null) throw err;
        if (err instanceof WecomUnreachable) unreachable ??= text;
        failed.set(id, text);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, configIds.length) }, lane));
  return { failed, unreachable: unreachable !== null };
}
