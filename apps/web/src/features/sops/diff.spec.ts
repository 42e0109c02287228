import { diffDefinitions } from './diff';

describe('diffDefinitions', () => {
  const v1 = { kind: 'journey', steps: [{ name: 'Day 0', window: { start: '10:00', end: '12:00' } }], policies: { exitOn: [{ on: 'replied' }] } };

  it('names each changed, added and removed field by its path', () => {
    const v2 = {
      kind: 'journey',
      steps: [{ name: 'Day 0', window: { start: '09:00', end: '12:00' } }, { name: 'Day 3', window: { start: '14:00', end: '17:00' } }],
      policies: { exitOn: [] },
    };
    expect(diffDefinitions(v1, v2)).toEqual([
      { path: 'steps[0].window.start', before: '10:00', after: '09:00' },
      { path: 'steps[1].name', before: undefined, after: 'Day 3' },
      { path: 'steps[1].window.start', before: undefined, after: '14:00' },
      { path: 'steps[1].window.end', before: undefined, after: '17:00' },
      { path: 'policies.exitOn', before: undefined, after: [] },
      { path: 'policies.exitOn[0].on', before: 'replied', after: undefined },
    ]);
  });

  it('finds nothing between equal definitions', () => {
    expect(diffDefinitions(v1, structuredClone(v1))).toEqual([]);
  });
});
