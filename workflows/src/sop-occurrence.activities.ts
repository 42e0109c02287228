/** Activities for occurrence work (recurring firings and broadcasts); the worker implements them over Postgres. */
export interface OccurrencePageResult {
  tasks: number;
  after: string | null;
  more: boolean;
  skipped?: string;
  /** the SOP is paused: nothing was done, try again after resume */
  held?: boolean;
}

export interface SopOccurrenceActivities {
  /** One keyset page of the audience turned into tasks for this occurrence (one transaction; repeats add nothing). */
  materializeOccurrencePage(input: { sopId: string; occurrence: number; after: string | null; pageSize: number }): Promise<OccurrencePageResult>;
  /** When the broadcast sends (epoch ms), or null when it is no longer active. */
  broadcastPlan(input: { sopId: string }): Promise<{ sendAt: number } | null>;
  /** Takes the broadcast's audience once (later calls take nothing). */
  snapshotBroadcast(input: { sopId: string }): Promise<{ recipients: number }>;
}
