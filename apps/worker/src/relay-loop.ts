/** A relay that polls the database in the background; stop() waits for the pass in flight. */
export interface RelayLoop {
  stop(): Promise<void>;
}

/**
 * Runs `pass` again and again, `intervalMs` after the end of the previous one, until stopped. A pass that throws
 * is handed to `onError` and the next runs as usual: the relays' work is only a wake-up, retried by the next pass.
 */
export function runRelayLoop(intervalMs: number, onError: (err: Error) => void, pass: () => Promise<void>): RelayLoop {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        await pass();
      } catch (err) {
        onError(err as Error);
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
