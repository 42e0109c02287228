import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AppError, type ErrorDetail, jsonDepthExceeds, MAX_JSON_DEPTH, validationFailed } from '@sop/domain';
import { contactsChanged, recordContactActivity, recordPurchase, recordResponse, type ResponseInput } from '@sop/engine';
import { DataSource, type EntityManager } from 'typeorm';
import { COMMON_ERRORS, fail, failAt } from '../../common/errors.catalog';
import type { Principal } from '../../common/principal';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { EventSigning } from '../api-keys/event-signing';
import { SourceCodesService } from '../source-codes/source-codes.service';
import { eventsOf, type IngestedEvent, parseEvent } from './event-schema';
import type { EventBatchResultDto, EventResultDto } from './events.dto';
import { EVENTS_ERRORS } from './events.errors';
import { EventsRepository } from './events.repository';

export interface SignedRequest {
  timestamp?: string;
  signature?: string;
  rawBody: Buffer;
}

/** An event refused while it was applied: its transaction rolls back, so nothing of it stays. */
class Refused extends Error {
  constructor(readonly problems: ErrorDetail[]) {
    super('refused');
  }
}

type Outcome = { status: 'accepted'; responseId: string } | { status: 'duplicate'; reason: string };

/**
 * The events API: other systems report purchases, replies, group joins and leaves, unsubscribes, arrivals
 * through a channel code and custom events. Each event is applied in its own transaction together with its
 * response, the response rules' tag changes and the outbox rows, keyed by (tenant, event id): a replayed id
 * changes nothing and is answered `duplicate`; a bad event is refused alone and nothing of it is kept.
 */
@Injectable()
export class EventsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly signing: EventSigning,
    private readonly apiKeys: ApiKeysService,
    private readonly sourceCodes: SourceCodesService,
    private readonly repo: EventsRepository,
  ) {}

  async ingest(caller: Principal, req: SignedRequest): Promise<EventBatchResultDto> {
    if (!caller.apiKeyId) throw fail(EVENTS_ERRORS.API_KEY_REQUIRED);
    this.signing.verify(await this.apiKeys.signingRef(caller.tenantId, caller.apiKeyId), req.timestamp, req.signature, req.rawBody);
    const events = eventsOf(parseJson(req.rawBody));
    if (!Array.isArray(events)) throw validationFailed([events]);
    const results: EventResultDto[] = [];
    for (const [index, input] of events.entries()) results.push({ index, ...(await this.one(caller, input)) });
    const count = (status: string) => results.filter((r) => r.status === status).length;
    return { accepted: count('accepted'), duplicates: count('duplicate'), rejected: count('rejected'), results };
  }

  private async one(caller: Principal, input: unknown): Promise<Omit<EventResultDto, 'index'>> {
    const parsed = parseEvent(input);
    if (!parsed.ok) return { id: parsed.id, status: 'rejected', problems: parsed.problems };
    const { event } = parsed;
    try {
      return { id: event.id, ...(await this.db.transaction((m) => this.apply(m, caller, event))) };
    } catch (err) {
      if (err instanceof Refused) return { id: event.id, status: 'rejected', problems: err.problems };
      throw err;
    }
  }

  private async apply(m: EntityManager, caller: Principal, event: IngestedEvent): Promise<Outcome> {
    const tenantId = caller.tenantId;
    if (!(await this.repo.recordIngested(m, tenantId, event, caller.apiKeyId))) return { status: 'duplicate', reason: 'this event id was received before' };
    const occurredAt = event.occurredAt ? new Date(event.occurredAt) : new Date();
    const response = await this.effect(m, tenantId, event, occurredAt);
    if (!response) return { status: 'duplicate', reason: 'this order was recorded before' };
    const { id } = await recordResponse(m, tenantId, { ...response, source: 'event', eventId: event.id, occurredAt });
    return { status: 'accepted', responseId: id };
  }

  /** Applies the event to the contact and says what response it is; null when it changes nothing (a known order). */
  private async effect(m: EntityManager, tenantId: string, event: IngestedEvent, at: Date): Promise<Omit<ResponseInput, 'source'> | null> {
    if (event.type === 'contact.joined') {
      const { created, contactId } = await this.sourceCodes.joinIn(m, tenantId, { ...event.data, externalId: event.externalId })
        .catch(renamePath('code', 'data.code'));
      return { contactId, kind: 'joined', data: { code: event.data.code, created } };
    }
    const contactId = await this.contactOf(m, tenantId, event.externalId);
    switch (event.type) {
      case 'purchase': {
        const { orderId, amount, currency } = event.data;
        if (!(await recordPurchase(m, tenantId, contactId, { orderId, amount, currency, orderedAt: at }))) return null;
        return { contactId, kind: 'bought', amount, data: { orderId, currency } };
      }
      case 'reply':
        await recordContactActivity(m, tenantId, contactId, { contacted: false, responded: true, at }, { eventId: event.id });
        return { contactId, kind: 'replied', data: event.data };
      case 'group.joined':
      case 'group.left':
        await this.changeGroup(m, tenantId, contactId, event.data.groupId, event.type === 'group.joined');
        return { contactId, kind: event.type === 'group.joined' ? 'joined_group' : 'left_group', data: event.data };
      case 'unsubscribed':
        await this.unsubscribe(m, tenantId, contactId, at);
        return { contactId, kind: 'unsubscribed', data: event.data };
      case 'custom':
        return { contactId, kind: 'custom', name: event.name, data: event.data };
    }
  }

  private async contactOf(m: EntityManager, tenantId: string, externalId: string): Promise<string> {
    const contactId = await this.repo.contactIdByExternalId(m, tenantId, externalId);
    if (!contactId) throw new Refused([{ path: 'externalId', problem: 'no contact with this external id (send contact.joined first)' }]);
    return contactId;
  }

  private async changeGroup(m: EntityManager, tenantId: string, contactId: string, groupId: string, join: boolean): Promise<void> {
    if (!(await this.repo.groupExists(m, tenantId, groupId))) throw new Refused([{ path: 'data.groupId', problem: 'no such customer group' }]);
    if (!(await this.repo.changeMembership(m, tenantId, groupId, contactId, join))) return;
    await this.repo.recordMembersChanged(m, tenantId, groupId, [contactId]);
    await contactsChanged(m, tenantId, [contactId]);
  }

  /** Unsubscribing is an attribute segments can exclude on: `unsubscribed: true` with the time it happened. */
  private async unsubscribe(m: EntityManager, tenantId: string, contactId: string, at: Date): Promise<void> {
    await this.repo.markUnsubscribed(m, tenantId, contactId, at);
    await contactsChanged(m, tenantId, [contactId]);
  }
}

function parseJson(raw: Buffer): unknown {
  if (jsonDepthExceeds(raw)) throw failAt(COMMON_ERRORS.VALIDATION_FAILED, 'events', `nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`, 400);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw fail(COMMON_ERRORS.MALFORMED_JSON, `The request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** A source-code refusal names `code`; in an event the field is `data.code`. */
function renamePath(from: string, to: string) {
  return (err: unknown): never => {
    if (err instanceof AppError && err.status === 422) throw new Refused((err.details ?? []).map((d) => ({ ...d, path: d.path === from ? to : d.path })));
    throw err;
  };
}
