export * from './measures';
export * from './variants';
