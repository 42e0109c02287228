import { applyExits, enrollEntrants, materializeDuePage, nextDueAt, sopStatus } from '@sop/engine';
import type { SopDispatcherActivities } from '@sop/workflows';
import type { DataSource } from 'typeorm';
import { heartbeating } from './heartbeating';

export function sopDispatcherActivities(db: DataSource): SopDispatcherActivities {
  return {
    // Exits first: a contact whose enrollment an exit closes, and who left and entered the segment again meanwhile,
    // enters anew in the same pass (an entry while the contact is still active in the journey enrolls nothing).
    prepareDispatch: ({ sopId, now }) => heartbeating(async () => {
      const exited = await applyExits(db, sopId);
      return { enrolled: await enrollEntrants(db, sopId, new Date(now)), exited, status: await sopStatus(db, sopId) };
    }),
    materializePage: ({ sopId, now, pageSize }) => heartbeating(() => materializeDuePage(db, sopId, new Date(now), pageSize)),
    nextDueAt: ({ sopId }) => heartbeating(async () => (await nextDueAt(db, sopId))?.getTime() ?? null),
  };
}
