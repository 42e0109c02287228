const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls until `read` returns something `done` accepts (workers, relays and pages run on their own schedule);
 * the timeout names what was awaited and the last value seen. When `done` is a type guard, the value returned
 * has the type it guards (e.g. rows whose awaited column is no longer null).
 */
export async function waitUntil<T, S extends T>(read: () => Promise<T>, done: (v: T) => v is S, what: string, ms?: number, every?: number): Promise<S>;
export async function waitUntil<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string, ms?: number, every?: number): Promise<T>;
export async function waitUntil<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string, ms = 20_000, every = 50): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(value)}`);
    await sleep(every);
  }
}

/** Retries `check` (expectations) until it passes; after `ms`, its last failure is the test's. */
export async function eventually(check: () => Promise<void>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > until) throw err;
      await sleep(100);
    }
  }
}
