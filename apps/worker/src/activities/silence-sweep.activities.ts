import { sweepSilence } from '@sop/engine';
import type { SilenceSweepActivities } from '@sop/workflows';
import type { DataSource } from 'typeorm';

export function silenceSweepActivities(db: DataSource): SilenceSweepActivities {
  return {
    sweepSilence: () => sweepSilence(db),
  };
}
