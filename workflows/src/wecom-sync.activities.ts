import type { WecomSyncKind } from './signals';

/** The activities the WeCom sync workflow calls; the worker implements them (apps/worker/src/activities/wecom-sync.activities.ts). */
export interface WecomSyncActivities {
  /** The tenant's running sync run (a run left running by a stopped workflow is resumed), or a new one. */
  openWecomSync(tenantId: string): Promise<string>;
  /**
   * The tenant's running run or a new one of `kind`, and the kind it is: a running incremental run asked to be full
   * becomes full; an incremental run of a tenant that never had a successful sync is a full one.
   */
  openWecomSyncRun(tenantId: string, kind: WecomSyncKind): Promise<{ runId: string; kind: WecomSyncKind }>;
  /** Members → wecom_users, matched to our users by email where no hand match says otherwise. */
  syncWecomMembers(tenantId: string, runId: string): Promise<number>;
  /** Corp tag groups and tags → our tag groups and tags (kind manual), keyed by WeCom's ids. */
  syncWecomTags(tenantId: string, runId: string): Promise<number>;
  /** External contact pages from the run's saved cursor, for a while; done when the last page is in. */
  syncWecomContacts(tenantId: string, runId: string): Promise<{ done: boolean }>;
  /** Customer group pages from the run's saved cursor, for a while; done when the last page is in. */
  syncWecomGroups(tenantId: string, runId: string): Promise<{ done: boolean }>;
  /**
   * Incremental: the external contacts of the members that changed since the last successful sync (named by
   * callbacks, their events failed, new or changed in the member step), from the run's saved cursor; when done, those
   * members' follows not seen are dropped.
   */
  syncWecomDirtyContacts(tenantId: string, runId: string): Promise<{ done: boolean }>;
  /** Incremental: the customer groups named by callbacks since the last successful sync, and those WeCom lists that we lack. */
  syncWecomDirtyGroups(tenantId: string, runId: string): Promise<{ done: boolean }>;
  /** Ends the run: succeeded (a full run drops the follows it did not see) or failed with the error. */
  finishWecomSync(tenantId: string, runId: string, error: string | null): Promise<void>;
}

/** The nightly and incremental Schedules' one activity. */
export interface WecomNightlyActivities {
  /** Every organization with a WeCom connection; of `tenantIds` only, when given (a task scheduled by a run before it has no input). */
  listWecomTenants(input?: { tenantIds?: string[] }): Promise<string[]>;
}
