export * from './preferences';
export * from './messages';
