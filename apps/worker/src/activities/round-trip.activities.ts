import type { RoundTripActivities } from '@sop/workflows';
import type { DataSource } from 'typeorm';

export function roundTripActivities(db: DataSource, workerIdentity: string): RoundTripActivities {
  return {
    async completeRoundTrip({ tenantId, roundTripId }) {
      // Idempotent: only a pending row changes; a retried activity leaves the first result standing.
      await db.query(
        `UPDATE round_trips SET status = 'completed', completed_at = now(), worker_identity = $3
          WHERE tenant_id = $1 AND id = $2 AND status = 'pending'`,
        [tenantId, roundTripId, workerIdentity],
      );
      const [row] = await db.query(`SELECT worker_identity FROM round_trips WHERE tenant_id = $1 AND id = $2`, [
        tenantId,
        roundTripId,
      ]);
      if (!row) throw new Error(`round trip ${roundTripId} not found in tenant ${tenantId}`);
      return { workerIdentity: row.worker_identity };
    },
  };
}
