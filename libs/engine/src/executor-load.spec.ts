import { DayLoad, leastLoaded } from './executor-load';

const team = ['u1', 'u2', 'u3'];

/** Gives `n` tasks on `day`, one at a time as a page does, and returns who got them. */
function giveOut(load: DayLoad, day: string, n: number): string[] {
  return Array.from({ length: n }, () => {
    const id = leastLoaded(team, day, load)!;
    load.add(id, day);
    return id;
  });
}

describe('leastLoaded (round robin)', () => {
  it('evens out a day, starting from the load members already have', () => {
    const load = new DayLoad();
    load.add('u1', '2026-12-04', 3);
    giveOut(load, '2026-12-04', 12);
    expect(team.map((id) => load.get(id, '2026-12-04'))).toEqual([5, 5, 5]);
  });

  it('keeps a day within one task and gives the same answer from the same counts (a retried page)', () => {
    const first = giveOut(new DayLoad(), '2026-12-04', 7);
    expect(giveOut(new DayLoad(), '2026-12-04', 7)).toEqual(first);
    const counts = team.map((id) => first.filter((x) => x === id).length);
    expect(Math.max(...counts) - Math.min(...counts)).toBe(1);
  });

  it('lets the odd task of a day fall to different members on different days', () => {
    const firsts = new Set(['2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-05', '2026-12-06']
      .map((day) => leastLoaded(team, day, new DayLoad())));
    expect(firsts.size).toBeGreaterThan(1);
    expect(leastLoaded([], '2026-12-04', new DayLoad())).toBeUndefined();
  });
});
