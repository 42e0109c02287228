import { applyExits, enrollEntrants, materializeDuePage, nextDueAt, sopStatus } from '@sop/engine';
import type { SopDispatcherActivities } from '@sop/workflows';
import type { DataSource } from 'typeorm';
import { heartbeating } from './heartbeating';

export function sopDispatcherActivities(db: DataSource): SopDispatcherActivities {
  return {
    prepareDispatch: ({ sopId, now }) => heartbeating(async () => {
      const enrolled = await enrollEntrants(db, sopId, new Date(now));
      return { enrolled, exited: await applyExits(db, sopId), status: await sopStatus(db, sopId) };
    }),
    materializePage: ({ sopId, now, pageSize }) => heartbeating(() => materializeDuePage(db, sopId, new Date(now), pageSize)),
    nextDueAt: ({ sopId }) => heartbeating(async () => (await nextDueAt(db, sopId))?.getTime() ?? null),
  };
}
