import { applyComputedTags } from './computed-tags';
import type { Queryable } from './queryable';
import { evaluateMemberships, evaluateMembershipsSet, type MembershipChanges } from './segment-membership';

/**
 * What follows any change to contacts' data, in the caller's transaction: computed tags catch up
 * with the new inputs, then the contacts move in and out of segments.
 */
export async function contactsChanged(db: Queryable, tenantId: string, contactIds: string[], now = new Date()): Promise<MembershipChanges> {
  await applyComputedTags(db, tenantId, contactIds, now);
  return evaluateMemberships(db, tenantId, contactIds, now);
}

/**
 * `contactsChanged` for many contacts at once (a CSV import chunk): computed tags (already
 * set-based), then memberships with one set-based statement instead of a read per contact.
 */
export async function contactsChangedSet(db: Queryable, tenantId: string, contactIds: string[], now = new Date()): Promise<MembershipChanges> {
  await applyComputedTags(db, tenantId, contactIds, now);
  return evaluateMembershipsSet(db, tenantId, contactIds, now);
}
