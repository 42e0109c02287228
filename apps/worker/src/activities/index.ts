import type { DataSource } from 'typeorm';
import { roundTripActivities } from './round-trip.activities';
import { silenceSweepActivities } from './silence-sweep.activities';
import { sopDispatcherActivities } from './sop-dispatcher.activities';
import { sopOccurrenceActivities } from './sop-occurrence.activities';

/** Builds every activity from its dependencies; the worker and the tests call this one factory. */
export function createActivities(db: DataSource, workerIdentity: string) {
  return { ...roundTripActivities(db, workerIdentity), ...silenceSweepActivities(db), ...sopDispatcherActivities(db), ...sopOccurrenceActivities(db) };
}
