import { AppError } from '../errors';
import type { Rule } from './rule';
import { checkRule, validateRule } from './validate';

const HIGH = '11111111-1111-4111-8111-111111111111';
const PRODUCT_B = '22222222-2222-4222-8222-222222222222';
const UNKNOWN_TAG = '33333333-3333-4333-8333-333333333333';
const USER = '44444444-4444-4444-8444-444444444444';
const tagNums = new Map([[HIGH, 7], [PRODUCT_B, 9]]);

const problems = (input: unknown) => checkRule(input, { tagNums }).errors;

describe('validateRule', () => {
  it('returns a valid rule, lowercasing ids so they match what Postgres returns', () => {
    const input = {
      all: [
        { tag: HIGH.toUpperCase() },
        { any: [{ tags: { all: [PRODUCT_B] } }, { not: { tagWeight: { tag: HIGH, gte: 0.5 } } }] },
        { attribute: { key: 'region', op: 'eq', value: 'Shanghai' } },
        { attribute: { key: 'vip', op: 'exists' } },
        { metric: { name: 'totalSpend', op: 'gte', value: 1000 } },
        { daysSince: { field: 'lastContacted', op: 'gte', days: 14 } },
        { owner: { users: [USER.toUpperCase()], teams: [] } },
        { group: { any: [USER] } },
      ],
    };
    expect(validateRule(input, { tagNums })).toEqual({
      all: [
        { tag: HIGH },
        { any: [{ tags: { all: [PRODUCT_B] } }, { not: { tagWeight: { tag: HIGH, gte: 0.5 } } }] },
        { attribute: { key: 'region', op: 'eq', value: 'Shanghai' } },
        { attribute: { key: 'vip', op: 'exists' } },
        { metric: { name: 'totalSpend', op: 'gte', value: 1000 } },
        { daysSince: { field: 'lastContacted', op: 'gte', days: 14 } },
        { owner: { users: [USER] } },
        { group: { any: [USER] } },
      ],
    });
  });

  it('throws VALIDATION_FAILED with every problem as details', () => {
    let error: unknown;
    try {
      validateRule({ any: [{ tag: UNKNOWN_TAG }, { tag: 'nope' }] }, { tagNums, root: 'body.rule' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({
      code: 'VALIDATION_FAILED',
      status: 400,
      message: 'body.rule.any[0].tag: unknown tag; body.rule.any[1].tag: must be a UUID',
      details: [
        { path: 'body.rule.any[0].tag', problem: 'unknown tag' },
        { path: 'body.rule.any[1].tag', problem: 'must be a UUID' },
      ],
    });
  });

  it('reports every problem at once, each at its JSON path, in document order', () => {
    expect(problems({
      all: [
        { tag: UNKNOWN_TAG },
        { attribute: { key: 'age', op: 'between', value: 3 } },
        { metric: { name: 'ltv', op: 'gt', value: 'high' } },
        { daysSince: { field: 'lastContacted', op: 'gte', days: 1.5 } },
        { tags: { any: [] } },
        { owner: {} },
        { whatever: 1 },
        { tag: HIGH, extra: 1 },
        { tag: HIGH, tags: { any: [HIGH] } },
        { any: [{ all: [{ attribute: { key: 'age', op: 'gt', value: '30' } }] }] },
      ],
    })).toEqual([
      { path: 'rule.all[0].tag', problem: 'unknown tag' },
      { path: 'rule.all[1].attribute.op', problem: 'must be one of eq, ne, lt, lte, gt, gte, in, contains, exists' },
      { path: 'rule.all[2].metric.name', problem: 'must be one of orderCount, totalSpend, spend30d' },
      { path: 'rule.all[2].metric.value', problem: 'must be a number' },
      { path: 'rule.all[3].daysSince.days', problem: 'must be a whole number of days from 0 to 3650' },
      { path: 'rule.all[4].tags.any', problem: 'must be a list of 1 to 1000 ids' },
      { path: 'rule.all[5].owner', problem: 'must list at least one user or team' },
      { path: 'rule.all[6].whatever', problem: expect.stringMatching(/^unknown rule kind; use one of all, any, not, tag, /) },
      { path: 'rule.all[7].extra', problem: 'is not allowed here' },
      { path: 'rule.all[8]', problem: 'must have only one kind, not tag and tags' },
      { path: 'rule.all[9].any[0].all[0].attribute.value', problem: 'must be a number' },
    ]);
  });

  it.each<[string, unknown, { path: string; problem: string }[]]>([
    ['a non-object root', [], [{ path: 'rule', problem: 'must be an object' }]],
    ['null', null, [{ path: 'rule', problem: 'must be an object' }]],
    ['an empty node', {}, [{ path: 'rule', problem: 'must have one of all, any, not, tag, tags, tagWeight, attribute, metric, daysSince, owner, group' }]],
    ['an empty all', { all: [] }, [{ path: 'rule.all', problem: 'must be a non-empty list of rules' }]],
    ['any that is not a list', { any: { tag: HIGH } }, [{ path: 'rule.any', problem: 'must be a non-empty list of rules' }]],
    ['a null child', { not: null }, [{ path: 'rule.not', problem: 'must be an object' }]],
    ['tags with both modes', { tags: { any: [HIGH], all: [HIGH] } }, [{ path: 'rule.tags', problem: 'must have exactly one of any, all' }]],
    ['tags with an unknown mode', { tags: { some: [HIGH] } }, [{ path: 'rule.tags.some', problem: 'is not allowed here' }]],
    ['bad ids inside a list', { tags: { all: [HIGH, 42, UNKNOWN_TAG] } }, [
      { path: 'rule.tags.all[1]', problem: 'must be a UUID' },
      { path: 'rule.tags.all[2]', problem: 'unknown tag' },
    ]],
    ['tagWeight gaps', { tagWeight: { tag: UNKNOWN_TAG } }, [{ path: 'rule.tagWeight.gte', problem: 'is required' }]],
    ['tagWeight wrong types', { tagWeight: { tag: UNKNOWN_TAG, gte: '3' } }, [
      { path: 'rule.tagWeight.tag', problem: 'unknown tag' },
      { path: 'rule.tagWeight.gte', problem: 'must be a number' },
    ]],
    ['a bad attribute key and value together', { attribute: { key: 'a b', op: 'in', value: ['ok', true, null] } }, [
      { path: 'rule.attribute.key', problem: 'must be 1 to 64 letters, digits, _ . or -' },
      { path: 'rule.attribute.value[1]', problem: 'must be a string or number' },
      { path: 'rule.attribute.value[2]', problem: 'must be a string or number' },
    ]],
    ['a too long attribute key', { attribute: { key: 'k'.repeat(65), op: 'exists' } }, [
      { path: 'rule.attribute.key', problem: 'must be 1 to 64 letters, digits, _ . or -' },
    ]],
    ['exists with a value', { attribute: { key: 'vip', op: 'exists', value: true } }, [
      { path: 'rule.attribute.value', problem: 'must be left out for exists' },
    ]],
    ['eq without a value', { attribute: { key: 'vip', op: 'eq' } }, [{ path: 'rule.attribute.value', problem: 'is required' }]],
    ['eq with a list', { attribute: { key: 'vip', op: 'eq', value: [1] } }, [
      { path: 'rule.attribute.value', problem: 'must be a string, number or boolean' },
    ]],
    ['eq with null', { attribute: { key: 'vip', op: 'ne', value: null } }, [
      { path: 'rule.attribute.value', problem: 'must be a string, number or boolean' },
    ]],
    ['an empty in list', { attribute: { key: 'region', op: 'in', value: [] } }, [
      { path: 'rule.attribute.value', problem: 'must be a list of 1 to 1000 strings or numbers' },
    ]],
    ['contains with a number', { attribute: { key: 'note', op: 'contains', value: 5 } }, [
      { path: 'rule.attribute.value', problem: 'must be a non-empty string of at most 200 characters' },
    ]],
    ['a stray attribute field', { attribute: { key: 'age', op: 'gt', value: 1, unit: 'y' } }, [
      { path: 'rule.attribute.unit', problem: 'is not allowed here' },
    ]],
    ['an unknown metric op', { metric: { name: 'orderCount', op: 'in', value: 1 } }, [
      { path: 'rule.metric.op', problem: 'must be one of eq, ne, lt, lte, gt, gte' },
    ]],
    ['daysSince out of range', { daysSince: { field: 'lastSeen', op: 'lte', days: 3651 } }, [
      { path: 'rule.daysSince.field', problem: 'must be one of lastContacted, lastResponded, lastOrder' },
      { path: 'rule.daysSince.op', problem: 'must be one of gte, lt' },
      { path: 'rule.daysSince.days', problem: 'must be a whole number of days from 0 to 3650' },
    ]],
    ['negative days', { daysSince: { field: 'lastOrder', op: 'lt', days: -1 } }, [
      { path: 'rule.daysSince.days', problem: 'must be a whole number of days from 0 to 3650' },
    ]],
    ['owner with only empty lists', { owner: { users: [], teams: [] } }, [{ path: 'rule.owner', problem: 'must list at least one user or team' }]],
    ['owner with a bad id', { owner: { teams: ['team-1'] } }, [{ path: 'rule.owner.teams[0]', problem: 'must be a UUID' }]],
    ['group without ids', { group: { any: 'x' } }, [{ path: 'rule.group.any', problem: 'must be a list of 1 to 1000 ids' }]],
    ['group with a stray key', { group: { all: [USER] } }, [
      { path: 'rule.group.all', problem: 'is not allowed here' },
      { path: 'rule.group.any', problem: 'is required' },
    ]],
  ])('rejects %s', (_name, input, expected) => {
    expect(problems(input)).toEqual(expected);
  });

  it('allows nesting 8 levels deep, the leaf included, and refuses a 9th', () => {
    const nest = (levels: number): Rule => {
      let rule: Rule = { tag: HIGH };
      for (let i = 1; i < levels; i++) rule = { not: rule };
      return rule;
    };
    expect(problems(nest(8))).toEqual([]);
    expect(problems(nest(9))).toEqual([{ path: `rule${'.not'.repeat(8)}`, problem: 'nesting deeper than 8 levels' }]);
    expect(problems({ all: [{ any: [nest(7)] }] })).toEqual([
      { path: `rule.all[0].any[0]${'.not'.repeat(6)}`, problem: 'nesting deeper than 8 levels' },
    ]);
  });

  it('allows 100 predicates and refuses the 101st, once', () => {
    const leaves = (n: number) => Array.from({ length: n }, () => ({ tag: HIGH }));
    expect(problems({ any: leaves(100) })).toEqual([]);
    expect(problems({ any: [{ all: leaves(60) }, { not: { any: leaves(50) } }] })).toEqual([
      { path: 'rule.any[1].not.any[40]', problem: 'more than 100 predicates' },
    ]);
  });

  it('allows 1000 ids in a list and refuses 1001', () => {
    const ids = (n: number) => Array.from({ length: n }, () => USER);
    expect(problems({ group: { any: ids(1000) } })).toEqual([]);
    expect(problems({ owner: { users: ids(1001) } })).toEqual([{ path: 'rule.owner.users', problem: 'must be a list of 0 to 1000 ids' }]);
    expect(problems({ attribute: { key: 'n', op: 'in', value: Array.from({ length: 1001 }, (_, i) => i) } })).toEqual([
      { path: 'rule.attribute.value', problem: 'must be a list of 1 to 1000 strings or numbers' },
    ]);
  });

  it('gives checkRule callers the rule only when there are no errors', () => {
    expect(checkRule({ tag: HIGH }, { tagNums })).toEqual({ rule: { tag: HIGH }, errors: [] });
    expect(checkRule({ tag: UNKNOWN_TAG }, { tagNums })).toEqual({ errors: [{ path: 'rule.tag', problem: 'unknown tag' }] });
  });

  it('does not let prototype keys pass as rule kinds', () => {
    expect(problems(JSON.parse('{"__proto__": {"tag": "x"}}'))).toEqual([
      { path: 'rule.__proto__', problem: expect.stringMatching(/^unknown rule kind/) },
    ]);
    expect(problems({ constructor: {} })).toEqual([{ path: 'rule.constructor', problem: expect.stringMatching(/^unknown rule kind/) }]);
  });
});
