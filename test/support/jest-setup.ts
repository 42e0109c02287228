import { DefaultLogger, Runtime } from '@temporalio/worker';

// One Temporal runtime per test file: errors only, and no signal handlers (Jest owns signals).
Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
