export * from './callback-crypto';
export * from './client';
export { SecretBox } from './secret-box';
export * from './connections';
export * from './app-messages';
