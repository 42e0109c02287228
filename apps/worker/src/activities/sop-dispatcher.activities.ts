import { applyExits, enrollEntrants, materializeDuePage, nextDueAt } from '@sop/engine';
import type { SopDispatcherActivities } from '@sop/workflows';
import type { DataSource } from 'typeorm';

export function sopDispatcherActivities(db: DataSource): SopDispatcherActivities {
  return {
    async prepareDispatch({ sopId, now }) {
      const enrolled = await enrollEntrants(db, sopId, new Date(now));
      return { enrolled, exited: await applyExits(db, sopId) };
    },
    materializePage: ({ sopId, now, pageSize }) => materializeDuePage(db, sopId, new Date(now), pageSize),
    async nextDueAt({ sopId }) {
      return (await nextDueAt(db, sopId))?.getTime() ?? null;
    },
  };
}
