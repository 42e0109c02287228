export * from './errors';
export * from './ids';
export * from './roles';
export * from './segments';
export * from './calendar';
export * from './sops';
export * from './notifications';
export * from './responses';
