import { ageSpend30d, sweepSilence } from '@sop/engine';
import type { SilenceSweepActivities } from '@sop/workflows';
import type { DataSource } from 'typeorm';

export function silenceSweepActivities(db: DataSource): SilenceSweepActivities {
  return {
    // One periodic sweep for everything the clock alone changes: 30-day spend first, so computed tags and
    // segments then see it.
    sweepSilence: async (input) => {
      const now = new Date();
      const agedSpend = await ageSpend30d(db, now, input?.tenantIds);
      return { ...(await sweepSilence(db, now, input?.tenantIds)), agedSpend };
    },
  };
}
