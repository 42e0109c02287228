export * from './worker';
export * from './activities';
export * from './wake-relay';
export * from './handover-owners-relay';
export * from './reminder-delivery';
export * from './wecom-app-messages';
export * from './wecom-push-relay';
