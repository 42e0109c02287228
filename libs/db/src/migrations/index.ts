import { Foundation1763856000000 } from './1763856000000-foundation';

/** Every migration, oldest first. Schema sync stays off: the schema changes only here. */
export const MIGRATIONS = [Foundation1763856000000];
