export * from './cadence';
export * from './definition';
export * from './template';
export * from './validate';
export * from './materials';
