export * from './queryable';
export * from './segment-membership';
export * from './tag-nums';
export * from './computed-tags';
export * from './contacts-changed';
export * from './silence-sweep';
export * from './sop-dispatch';
export * from './sop-occurrence';
