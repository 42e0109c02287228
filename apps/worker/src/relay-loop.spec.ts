import { runRelayLoop } from './relay-loop';

describe('the relays\' polling loop', () => {
  it('goes on after a pass that throws, reporting it', async () => {
    const errors: string[] = [];
    let passes = 0;
    const loop = runRelayLoop(5, (err) => errors.push(err.message), async () => {
      passes++;
      if (passes === 1) throw new Error('database away');
    });
    while (passes < 3) await new Promise((r) => setTimeout(r, 5));
    await loop.stop();
    expect(errors).toEqual(['database away']);
  });

  it('waits in stop() for the pass in flight, and runs no pass after', async () => {
    let finished = 0;
    let started = 0;
    let release: () => void = () => {};
    const loop = runRelayLoop(1, () => {}, async () => {
      started++;
      await new Promise<void>((r) => { release = r; });
      finished++;
    });
    await new Promise((r) => setTimeout(r, 10));
    const stopping = loop.stop();
    release();
    await stopping;
    expect(finished).toBe(started);
    await new Promise((r) => setTimeout(r, 20));
    expect(started).toBe(1);
  });
});
