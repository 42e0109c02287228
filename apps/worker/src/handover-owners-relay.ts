import { followOwners, type Transactional } from '@sop/engine';
import { type RelayLoop, runRelayLoop } from './relay-loop';

export interface HandoverOwnersRelayOptions {
  intervalMs?: number;
  /** handovers younger than this are left to the API, which evaluates them right after answering */
  graceMs?: number;
  onError?: (err: Error) => void;
  /** after each handover evaluated here */
  onFollowed?: (done: { handoverId: string; contacts: number }) => void;
}

/**
 * The safety net of a handover's owner segments (libs/engine handover.ts `followOwners`): the API evaluates them
 * just after its commit, without waiting; a handover still `segments_pending` after `graceMs` (the API restarted, or
 * its evaluation failed) is evaluated here, oldest first. Two relays (or the API) never evaluate one handover at
 * once: each takes it with SKIP LOCKED, and clears the flag in the same transaction.
 */
export async function startHandoverOwnersRelay(db: Transactional, options: HandoverOwnersRelayOptions = {}): Promise<RelayLoop> {
  const { intervalMs = 5000, graceMs = 60_000, onError = () => {}, onFollowed = () => {} } = options;
  return runRelayLoop(intervalMs, onError, async () => {
    for (let done = await followOwners(db, { olderThan: new Date(Date.now() - graceMs) }); done;
      done = await followOwners(db, { olderThan: new Date(Date.now() - graceMs) })) {
      onFollowed(done);
    }
  });
}
