import { materializeOccurrencePage, snapshotBroadcast } from '@sop/engine';
import type { SopOccurrenceActivities } from '@sop/workflows';
import type { DataSource } from 'typeorm';
import { heartbeating } from './heartbeating';

export function sopOccurrenceActivities(db: DataSource): SopOccurrenceActivities {
  return {
    materializeOccurrencePage: ({ sopId, occurrence, after, pageSize }) =>
      heartbeating(() => materializeOccurrencePage(db, { sopId, occurrence: new Date(occurrence), after, limit: pageSize })),
    async broadcastPlan({ sopId }) {
      // Waits for an activation still in flight (it starts this workflow before it commits), then reads in a
      // statement of its own: one statement that locks and joins would join the re-read row to versions from its
      // older snapshot, miss the version the activation published, and end the broadcast with no task.
      await db.query(`SELECT 1 FROM sops WHERE id = $1 FOR SHARE`, [sopId]);
      const [row] = await db.query(
        `SELECT v.definition->>'sendAt' AS send_at FROM sops s JOIN sop_versions v ON v.sop_id = s.id AND v.version = s.current_version
          WHERE s.id = $1 AND s.status IN ('active', 'paused') AND s.kind = 'broadcast'`, [sopId]);
      return row ? { sendAt: new Date(row.send_at).getTime() } : null;
    },
    snapshotBroadcast: ({ sopId }) => heartbeating(async () => ({ recipients: await snapshotBroadcast(db, sopId) })),
  };
}
