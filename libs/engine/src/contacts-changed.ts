import { applyComputedTags } from './computed-tags';
import type { Queryable } from './queryable';
import { evaluateMemberships, type MembershipChanges } from './segment-membership';

/**
 * What follows any change to contacts' data, in the caller's transaction: computed tags catch up
 * with the new inputs, then the contacts move in and out of segments.
 */
export async function contactsChanged(db: Queryable, tenantId: string, contactIds: string[], now = new Date()): Promise<MembershipChanges> {
  await applyComputedTags(db, tenantId, contactIds, now);
  return evaluateMemberships(db, tenantId, contactIds, now);
}
