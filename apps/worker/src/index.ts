export * from './worker';
export * from './activities';
