export * from './queryable';
export * from './segment-membership';
