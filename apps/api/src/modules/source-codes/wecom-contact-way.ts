import { Injectable } from '@nestjs/common';
import { AppError } from '@sop/domain';
import { WecomApiError, type WecomClient, WecomUnreachable } from '@sop/wecom';
import type { EntityManager } from 'typeorm';
import { COMMON_ERRORS, fail, failAt } from '../../common/errors.catalog';
import { deleteContactWay, deleteContactWays, failureText, keepLeftovers, type LeftoverReason } from '../wecom/contact-way-leftovers';
import { WECOM_ERRORS } from '../wecom/wecom.errors';
import { WecomService } from '../wecom/wecom.service';
import { WECOM_STATE_MAX } from './source-codes.dto';
import { SourceCodesRepository } from './source-codes.repository';

/** A code's WeCom "contact me" configuration as kept on the code. */
export interface ContactWay {
  configId: string;
  qrCode: string;
  userIds: string[];
  wecomUserIds: string[];
}

/** WeCom's errcodes about the member list (unknown userid, a member without the customer-contact permission). */
const USER_ERRORS = new Set([60111, 84074, 84075, 40003]);

/**
 * A source code's WeCom "contact me" QR code (issue 16 item 4): `add_contact_way` (type 1 for one member, 2 for
 * several; scene 2, a QR code; the code as `state`, which WeCom returns in the add-contact callback, so a scan
 * arrives through the code), `update_contact_way` when the code or the members change, `del_contact_way` when the
 * code goes. Called while the code's row is written, in its transaction: WeCom refusing leaves nothing saved, except
 * a deletion that frees the code of a configuration (taken off, replaced): that one failing is kept as a leftover.
 */
@Injectable()
export class WecomContactWays {
  constructor(private readonly wecom: WecomService, private readonly codes: SourceCodesRepository) {}

  /** WeCom limits state to 30 characters: a 422 naming `code` before anything is asked of WeCom. */
  static checkState(code: string): void {
    if (code.length > WECOM_STATE_MAX) {
      throw failAt(COMMON_ERRORS.VALIDATION_FAILED, 'code', `must be at most ${WECOM_STATE_MAX} characters for a WeCom QR code (WeCom's limit on a contact way's state)`, 422);
    }
  }

  async create(m: EntityManager, tenantId: string, code: string, userIds: string[]): Promise<ContactWay> {
    WecomContactWays.checkState(code);
    const wecomUserIds = await this.members(m, tenantId, userIds);
    const client = await this.client(tenantId);
    const answer = await this.call(() => client.post<{ errcode: number; config_id: string; qr_code: string }>('/cgi-bin/externalcontact/add_contact_way', {
      type: wecomUserIds.length === 1 ? 1 : 2, scene: 2, state: code, user: wecomUserIds, skip_verify: true,
    }));
    return { configId: answer.config_id, qrCode: answer.qr_code, userIds, wecomUserIds };
  }

  /**
   * The code or its members changed. WeCom cannot change a configuration's type (one member or several), so
   * going from one to several (or back) replaces it: a new QR code, the old one deleted.
   */
  async update(m: EntityManager, tenantId: string, sourceCodeId: string, current: ContactWay, code: string, userIds: string[]): Promise<ContactWay> {
    WecomContactWays.checkState(code);
    const wecomUserIds = await this.members(m, tenantId, userIds);
    if ((wecomUserIds.length === 1) !== (current.wecomUserIds.length === 1)) {
      const created = await this.create(m, tenantId, code, userIds);
      // the new one exists in WeCom now: the old one failing to go must not undo the edit (that would orphan the new one)
      await this.removeOrLeave(m, tenantId, sourceCodeId, current.configId, 'replaced');
      return created;
    }
    const client = await this.client(tenantId);
    await this.call(() => client.post('/cgi-bin/externalcontact/update_contact_way', { config_id: current.configId, state: code, user: wecomUserIds }));
    return { ...current, userIds, wecomUserIds };
  }

  /** Deleted in WeCom; one WeCom no longer has (deleted there) counts as deleted. Failing is an error answer (nothing is changed here). */
  async remove(tenantId: string, configId: string): Promise<void> {
    const client = await this.client(tenantId);
    try {
      await deleteContactWay(client, configId);
    } catch (err) {
      throw this.translate(err);
    }
  }

  /**
   * Deleted in WeCom, else kept as the code's leftover in the caller's transaction (WeCom out of reach, an errcode,
   * unreadable secrets): the code goes on without it, and the leftover shows on the code until deleted or forgotten.
   */
  async removeOrLeave(m: EntityManager, tenantId: string, sourceCodeId: string, configId: string, reason: LeftoverReason): Promise<void> {
    let error: string | null = null;
    try {
      await deleteContactWay(await this.client(tenantId), configId);
    } catch (err) {
      error = failureText(err);
      if (error === null) throw err;
    }
    if (error === null) return;
    const corpId = await this.wecom.connectedCorp(tenantId);
    await keepLeftovers(m, tenantId, corpId ?? 'unknown', [{ sourceCodeId, configId, reason, error }]);
  }

  /**
   * The code's leftovers deleted in WeCom, each once (WeCom not knowing one counts as deleted). Answers the configs
   * deleted and, for those still in WeCom, why; `refusal` is the error answer to give when some remain: 503
   * WECOM_UNREACHABLE when WeCom was out of reach, else 422 WECOM_CONTACT_WAY_REFUSED at `wecomLeftover` (an
   * errcode; no connection, or a connection to another corporation than the one that holds it).
   */
  async deleteLeftovers(tenantId: string, leftovers: { config_id: string; corp_id: string }[]): Promise<{ deleted: string[]; failed: Map<string, string>; refusal?: Error }> {
    const corpId = await this.wecom.connectedCorp(tenantId);
    const failed = new Map<string, string>();
    for (const l of leftovers) {
      if (l.corp_id !== corpId) {
        failed.set(l.config_id, corpId
          ? `it belongs to the WeCom corporation ${l.corp_id}, not the one connected now (${corpId}): delete it in that corporation, or forget it`
          : `the organization is not connected to WeCom: connect the corporation ${l.corp_id} again to delete it there, or forget it`);
      }
    }
    const ours = leftovers.filter((l) => !failed.has(l.config_id)).map((l) => l.config_id);
    let unreachable = false;
    let blocking: AppError | null = null;
    if (ours.length) {
      const client = await this.wecom.contactsClient(tenantId).catch((err: unknown) => {
        if (err instanceof AppError) return err;
        throw err;
      });
      if (client instanceof AppError) blocking = client;
      const outcome = await deleteContactWays(client ?? new Error('the organization is not connected to WeCom'), ours);
      unreachable = outcome.unreachable;
      for (const [id, error] of outcome.failed) failed.set(id, error);
    }
    const deleted = leftovers.map((l) => l.config_id).filter((id) => !failed.has(id));
    if (!failed.size) return { deleted, failed };
    const first = [...failed.values()][0];
    const refusal = blocking ?? (unreachable
      ? fail(WECOM_ERRORS.WECOM_UNREACHABLE, `WeCom could not be reached; ${failed.size} contact-me configuration(s) are still kept to delete. Try again shortly.`)
      : failAt(WECOM_ERRORS.WECOM_CONTACT_WAY_REFUSED, 'wecomLeftover', first));
    return { deleted, failed, refusal };
  }

  /** Our users → their WeCom members, in the order given; a user matched to no member is a 422 at its index. */
  private async members(m: EntityManager, tenantId: string, userIds: string[]): Promise<string[]> {
    const rows = await this.codes.activeWecomMembers(m, tenantId, userIds);
    const byUser = new Map(rows.map((r) => [r.user_id, r.wecom_user_id]));
    const details = userIds.map((id, i) => ({ id, path: `wecomContactWay.userIds[${i}]` })).filter(({ id }) => !byUser.has(id))
      .map(({ path }) => ({ path, problem: 'is matched to no active WeCom member (match members on the WeCom page)' }));
    if (details.length) throw fail(WECOM_ERRORS.WECOM_CONTACT_WAY_REFUSED, 'Some employees are not WeCom members.', details);
    return [...new Set(userIds.map((id) => byUser.get(id)!))];
  }

  private async client(tenantId: string): Promise<WecomClient> {
    const client = await this.wecom.contactsClient(tenantId);
    if (!client) throw failAt(WECOM_ERRORS.WECOM_CONTACT_WAY_REFUSED, 'wecomContactWay', 'the organization has not connected WeCom');
    return client;
  }

  private async call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw this.translate(err);
    }
  }

  private translate(err: unknown): Error {
    if (err instanceof WecomApiError) {
      const path = USER_ERRORS.has(err.errcode) ? 'wecomContactWay.userIds' : 'wecomContactWay';
      return failAt(WECOM_ERRORS.WECOM_CONTACT_WAY_REFUSED, path, `WeCom refused it (errcode ${err.errcode}: ${err.errmsg})`);
    }
    if (err instanceof WecomUnreachable) return fail(WECOM_ERRORS.WECOM_UNREACHABLE, 'WeCom could not be reached; nothing was changed. Try again shortly.');
    return err as Error;
  }
}
