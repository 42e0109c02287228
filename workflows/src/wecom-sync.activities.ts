/** The activities the WeCom sync workflow calls; the worker implements them (apps/worker/src/activities/wecom-sync.activities.ts). */
export interface WecomSyncActivities {
  /** The tenant's running sync run (a run left running by a stopped workflow is resumed), or a new one. */
  openWecomSync(tenantId: string): Promise<string>;
  /** Members → wecom_users, matched to our users by email where no hand match says otherwise. */
  syncWecomMembers(tenantId: string, runId: string): Promise<number>;
  /** Corp tag groups and tags → our tag groups and tags (kind manual), keyed by WeCom's ids. */
  syncWecomTags(tenantId: string, runId: string): Promise<number>;
  /** External contact pages from the run's saved cursor, for a while; done when the last page is in. */
  syncWecomContacts(tenantId: string, runId: string): Promise<{ done: boolean }>;
  /** Customer group pages from the run's saved cursor, for a while; done when the last page is in. */
  syncWecomGroups(tenantId: string, runId: string): Promise<{ done: boolean }>;
  /** Ends the run: succeeded (follows it did not see are dropped) or failed with the error. */
  finishWecomSync(tenantId: string, runId: string, error: string | null): Promise<void>;
}

/** The nightly sync's one activity. */
export interface WecomNightlyActivities {
  /** Every organization with a WeCom connection. */
  listWecomTenants(): Promise<string[]>;
}
