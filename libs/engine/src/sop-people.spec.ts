import { coverLeave, type Leave, type People, pickVariant } from './sop-people';

const at = (iso: string) => new Date(iso);

function people(leaves: Omit<Leave, 'id'>[], active = ['away', 'sub', 'm1', 'm2', 'm3']): People {
  const byUser = new Map<string, Leave[]>();
  leaves.forEach((l, i) => byUser.set(l.userId, [...(byUser.get(l.userId) ?? []), { ...l, id: `leave-${i}` }]));
  return {
    users: new Map(active.map((id) => [id, { name: id, email: `${id}@test.example` }])),
    teams: new Map([['team', ['away', 'm1', 'm2', 'm3']]]),
    teamOf: new Map(),
    leaves: byUser,
  };
}

const week = { startsAt: at('2026-12-01T00:00:00Z'), endsAt: at('2026-12-08T00:00:00Z') };
const during = at('2026-12-03T10:00:00Z');

describe('coverLeave', () => {
  it('keeps the executor outside a leave (the return itself included) and for nobody', () => {
    const p = people([{ userId: 'away', ...week, policy: 'defer', toUserId: null, toTeamId: null }]);
    expect(coverLeave('away', at('2026-11-30T23:59:59Z'), 'c1', p)).toEqual({ executorId: 'away' });
    expect(coverLeave('away', week.endsAt, 'c1', p)).toEqual({ executorId: 'away' });
    expect(coverLeave(null, during, 'c1', p)).toEqual({ executorId: null });
  });

  it('defers to the return', () => {
    const p = people([{ userId: 'away', ...week, policy: 'defer', toUserId: null, toTeamId: null }]);
    expect(coverLeave('away', during, 'c1', p)).toEqual({ deferUntil: week.endsAt });
  });

  it('gives the task to the substitute, or to nobody when the substitute is disabled or away too', () => {
    const toSub = { userId: 'away', ...week, policy: 'reassign' as const, toUserId: 'sub', toTeamId: null };
    expect(coverLeave('away', during, 'c1', people([toSub]))).toEqual({ executorId: 'sub' });
    expect(coverLeave('away', during, 'c1', people([toSub], ['away']))).toEqual({ executorId: null });
    const subAway = { userId: 'sub', ...week, policy: 'defer' as const, toUserId: null, toTeamId: null };
    expect(coverLeave('away', during, 'c1', people([toSub, subAway]))).toEqual({ executorId: null });
  });

  it('spreads over the team members present, the same member for the same contact', () => {
    const toTeam = { userId: 'away', ...week, policy: 'reassign' as const, toUserId: null, toTeamId: 'team' };
    const m2Away = { userId: 'm2', ...week, policy: 'defer' as const, toUserId: null, toTeamId: null };
    const p = people([toTeam, m2Away]);
    const picks = Array.from({ length: 300 }, (_, i) => coverLeave('away', during, `contact-${i}`, p));
    const counts = new Map<string | null, number>();
    for (const pick of picks) if ('executorId' in pick) counts.set(pick.executorId, (counts.get(pick.executorId) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(['m1', 'm3']);
    for (const n of counts.values()) expect(n).toBeGreaterThan(100);
    expect(coverLeave('away', during, 'contact-7', p)).toEqual(picks[7]);
  });
});

describe('pickVariant', () => {
  const step = {
    content: { template: 'plain', materials: [], variants: [{ name: 'A', weight: 1, template: 'a' }, { name: 'B', weight: 1, template: 'b' }] },
  } as unknown as Parameters<typeof pickVariant>[0];

  it('splits sequential ids evenly and without long runs, and gives one key one variant', () => {
    const picks = Array.from({ length: 2000 }, (_, i) => pickVariant(step, String(100_000 + i)).name);
    const a = picks.filter((p) => p === 'A').length;
    expect(a).toBeGreaterThan(900);
    expect(a).toBeLessThan(1100);
    let run = 1;
    let longest = 1;
    for (let i = 1; i < picks.length; i++) longest = Math.max(longest, (run = picks[i] === picks[i - 1] ? run + 1 : 1));
    expect(longest).toBeLessThan(16);
    expect(pickVariant(step, 'x')).toEqual(pickVariant(step, 'x'));
  });

  it('follows the weights (70/20/10 over 3,000 keys, within 3 points) and gives a retried key the same variant', () => {
    const weighted = {
      content: { template: 'plain', materials: [], variants: [
        { name: 'A', weight: 70, template: 'a' }, { name: 'B', weight: 20, template: 'b' }, { name: 'C', weight: 10, template: 'c' }] },
    } as unknown as Parameters<typeof pickVariant>[0];
    const keys = Array.from({ length: 3000 }, (_, i) => `sop-1:${String(i).padStart(12, '0')}`);
    const picks = keys.map((k) => pickVariant(weighted, k).name);
    const share = (n: string) => picks.filter((p) => p === n).length / picks.length;
    expect(Math.abs(share('A') - 0.7)).toBeLessThan(0.03);
    expect(Math.abs(share('B') - 0.2)).toBeLessThan(0.03);
    expect(Math.abs(share('C') - 0.1)).toBeLessThan(0.03);
    expect(keys.map((k) => pickVariant(weighted, k).name)).toEqual(picks); // a retry picks as the first try did
  });

  it('answers the template without variants', () => {
    expect(pickVariant({ content: { template: 'plain', materials: [] } } as unknown as Parameters<typeof pickVariant>[0], 'k'))
      .toEqual({ name: null, template: 'plain' });
  });
});
