import { referencedTags, type Rule, timeFields } from './rule';
import { SqlParams } from './sql-params';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const C = '33333333-3333-4333-8333-333333333333';

const rule: Rule = {
  all: [
    { tag: B },
    { any: [{ tags: { any: [A, B] } }, { not: { tagWeight: { tag: C, gte: 1 } } }] },
    { daysSince: { field: 'lastOrder', op: 'lt', days: 30 } },
    { not: { daysSince: { field: 'lastContacted', op: 'gte', days: 14 } } },
    { daysSince: { field: 'lastOrder', op: 'gte', days: 90 } },
    { group: { any: [C] } }, // a group id, not a tag
  ],
};

describe('rule helpers', () => {
  it('lists every referenced tag id once, sorted', () => {
    expect(referencedTags(rule)).toEqual([A, B, C]);
    expect(referencedTags({ tags: { all: [B, A] } })).toEqual([A, B]);
    expect(referencedTags({ metric: { name: 'orderCount', op: 'gt', value: 1 } })).toEqual([]);
  });

  it('lists the activity times a rule depends on, for the silence sweep', () => {
    expect(timeFields(rule)).toEqual(['lastContacted', 'lastOrder']);
    expect(timeFields({ tag: A })).toEqual([]);
  });
});

describe('SqlParams', () => {
  it('numbers placeholders after the caller’s own parameters', () => {
    const params = new SqlParams(2);
    expect(params.next).toBe(2);
    expect([params.add('a'), params.add(null), params.add([1])]).toEqual(['$2', '$3', '$4']);
    expect(params.values).toEqual(['a', null, [1]]);
    expect(params.next).toBe(5);
    expect(new SqlParams().add(1)).toBe('$1');
  });

  it('refuses a start that is not a positive integer', () => {
    expect(() => new SqlParams(0)).toThrow(RangeError);
    expect(() => new SqlParams(1.5)).toThrow(RangeError);
  });
});
