import { Injectable } from '@nestjs/common';
import { WecomApiError, type WecomClient, WecomUnreachable } from '@sop/wecom';
import type { EntityManager } from 'typeorm';
import { COMMON_ERRORS, fail, failAt } from '../../common/errors.catalog';
import { WECOM_ERRORS } from '../wecom/wecom.errors';
import { WecomService } from '../wecom/wecom.service';
import { WECOM_STATE_MAX } from './source-codes.dto';

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
 * code goes. Called while the code's row is written, in its transaction: WeCom refusing leaves nothing saved.
 */
@Injectable()
export class WecomContactWays {
  constructor(private readonly wecom: WecomService) {}

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
  async update(m: EntityManager, tenantId: string, current: ContactWay, code: string, userIds: string[]): Promise<ContactWay> {
    WecomContactWays.checkState(code);
    const wecomUserIds = await this.members(m, tenantId, userIds);
    if ((wecomUserIds.length === 1) !== (current.wecomUserIds.length === 1)) {
      const created = await this.create(m, tenantId, code, userIds);
      await this.remove(tenantId, current.configId);
      return created;
    }
    const client = await this.client(tenantId);
    await this.call(() => client.post('/cgi-bin/externalcontact/update_contact_way', { config_id: current.configId, state: code, user: wecomUserIds }));
    return { ...current, userIds, wecomUserIds };
  }

  /** Deleted in WeCom; one WeCom no longer has (deleted there) counts as deleted. */
  async remove(tenantId: string, configId: string): Promise<void> {
    const client = await this.client(tenantId);
    try {
      await client.post('/cgi-bin/externalcontact/del_contact_way', { config_id: configId });
    } catch (err) {
      if (err instanceof WecomApiError && err.errcode === 40058) return; // invalid config_id: gone already
      throw this.translate(err);
    }
  }

  /** Our users → their WeCom members, in the order given; a user matched to no member is a 422 at its index. */
  private async members(m: EntityManager, tenantId: string, userIds: string[]): Promise<string[]> {
    const rows: { user_id: string; wecom_user_id: string }[] = await m.query(
      `SELECT user_id, wecom_user_id FROM wecom_users WHERE tenant_id = $1 AND user_id = ANY($2::uuid[]) AND active`, [tenantId, userIds]);
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
