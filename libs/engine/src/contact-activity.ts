import { contactsChanged } from './contacts-changed';
import type { Queryable } from './queryable';

/**
 * A contact was reached and/or answered (an executor's outcome, an opened link, a reply event): the activity
 * times move to `at` (now unless given; never backwards), the change is announced (`contact.updated`, which
 * wakes journeys whose exits may now hold), and computed tags and segment memberships (silence) follow, all in the caller's transaction.
 */
export async function recordContactActivity(
  m: Queryable, tenantId: string, contactId: string, { contacted, responded, at }: { contacted: boolean; responded: boolean; at?: Date },
  detail: Record<string, unknown> = {},
): Promise<void> {
  if (!contacted && !responded) return;
  await m.query(
    `UPDATE contacts SET last_contacted_at = CASE WHEN $3 THEN greatest(last_contacted_at, coalesce($5::timestamptz, now())) ELSE last_contacted_at END,
            last_responded_at = CASE WHEN $4 THEN greatest(last_responded_at, coalesce($5::timestamptz, now())) ELSE last_responded_at END,
            updated_at = now()
      WHERE tenant_id = $1 AND id = $2`,
    [tenantId, contactId, contacted, responded, at ?? null]);
  const fields = [...(contacted ? ['lastContactedAt'] : []), ...(responded ? ['lastRespondedAt'] : [])];
  await m.query(`INSERT INTO domain_events (tenant_id, type, payload) VALUES ($1, 'contact.updated', $2)`, [
    tenantId, { contactIds: [contactId], fields, ...detail }]);
  await contactsChanged(m, tenantId, [contactId]);
}
