// Every workflow the worker registers. Deterministic code only: see eslint.config.mjs.
export * from './reminder-sweep.workflow';
export * from './round-trip.workflow';
export * from './signals';
export * from './silence-sweep.workflow';
export * from './sop-dispatcher.workflow';
export * from './sop-occurrence.workflow';
export * from './wecom-sync.workflow';
export * from './wecom-events.workflow';
export * from './wecom-mass-send.workflow';
export type * from './reminder-sweep.activities';
export type * from './round-trip.activities';
export type * from './silence-sweep.activities';
export type * from './sop-dispatcher.activities';
export type * from './sop-occurrence.activities';
export type * from './wecom-sync.activities';
export type * from './wecom-events.activities';
export type * from './wecom-mass-send.activities';
