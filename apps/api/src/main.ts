import { createApp } from './app';
import { ConfigError, loadConfig } from './config/config';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createApp(config);
  await app.listen(config.port, process.env.HOST ?? '0.0.0.0');
}

main().catch((err) => {
  // Configuration problems are the operator's to fix: say which settings, without a stack trace.
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(err instanceof ConfigError ? 78 : 1);
});
