export { createApp, openApiDocument } from './app';
export { loadConfig, localWecomKey, type AppConfig } from './config/config';
export { PUBLIC_KEY, ROLES_KEY, type Principal } from './common/principal';
export { seedDemo, DEMO_USERS, DEMO_PASSWORD, DEMO_ORGANIZATION } from './seed/demo-seed';
export { seedDemoWork } from './seed/demo-work';
