import { Injectable } from '@nestjs/common';
import type { Queryable } from '@sop/engine';

/**
 * The events API's SQL: `ingested_events` (the replay key) and what an event does to its contact that the engine does
 * not (group membership, the unsubscribed attribute, with the change events written beside them). Every statement
 * runs in the event's own transaction, so each takes its manager, and is keyed by the caller's organization.
 */
@Injectable()
export class EventsRepository {
  /** Records the event id; false when the organization received this id before (a replay changes nothing). */
  async recordIngested(m: Queryable, tenantId: string, event: { id: string; type: string }, apiKeyId: string | null): Promise<boolean> {
    const [fresh] = await m.query(
      `INSERT INTO ingested_events (tenant_id, event_id, type, api_key_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1`,
      [tenantId, event.id, event.type, apiKeyId]);
    return Boolean(fresh);
  }

  /** The id of the organization's contact with this external id. */
  async contactIdByExternalId(m: Queryable, tenantId: string, externalId: string): Promise<string | undefined> {
    const [contact] = await m.query(`SELECT id FROM contacts WHERE tenant_id = $1 AND external_id = $2`, [tenantId, externalId]);
    return contact?.id;
  }

  async groupExists(m: Queryable, tenantId: string, groupId: string): Promise<boolean> {
    const [group] = await m.query(`SELECT id FROM customer_groups WHERE tenant_id = $1 AND id = $2`, [tenantId, groupId]);
    return Boolean(group);
  }

  /** Adds the contact to the group or takes it out; whether that changed anything (joining twice does not). */
  async changeMembership(m: Queryable, tenantId: string, groupId: string, contactId: string, join: boolean): Promise<boolean> {
    const changed: unknown[] = join
      ? await m.query(`INSERT INTO group_members (tenant_id, group_id, contact_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1`,
        [tenantId, groupId, contactId])
      : (await m.query(`DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND contact_id = $3 RETURNING 1`, [tenantId, groupId, contactId]))[0];
    return changed.length > 0;
  }

  async recordMembersChanged(m: Queryable, tenantId: string, groupId: string, contactIds: string[]): Promise<void> {
    await m.query(`INSERT INTO domain_events (tenant_id, type, payload) VALUES ($1, 'group.members_changed', $2)`, [
      tenantId, { groupId, contactIds }]);
  }

  /** Sets `unsubscribed: true` with the time it happened, and records the contact's change (an attribute segments can exclude on). */
  async markUnsubscribed(m: Queryable, tenantId: string, contactId: string, at: Date): Promise<void> {
    await m.query(
      `UPDATE contacts SET attributes = attributes || jsonb_build_object('unsubscribed', true, 'unsubscribedAt', $3::text), updated_at = now()
        WHERE tenant_id = $1 AND id = $2`, [tenantId, contactId, at.toISOString()]);
    await m.query(`INSERT INTO domain_events (tenant_id, type, payload) VALUES ($1, 'contact.updated', $2)`, [
      tenantId, { contactIds: [contactId], fields: ['attributes'] }]);
  }
}
