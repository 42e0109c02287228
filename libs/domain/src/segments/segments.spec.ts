import { AppError } from '../errors';
import { compileRule } from './compile';
import { referencedTags, type Rule, timeFields } from './rule';
import { SqlParams } from './sql-params';
import { validateRule } from './validate';

const HIGH = '11111111-1111-4111-8111-111111111111';
const PRODUCT_B = '22222222-2222-4222-8222-222222222222';
const tagNums = new Map([[HIGH, 7], [PRODUCT_B, 9]]);
const now = new Date('2026-11-23T00:00:00Z');

const compile = (input: unknown) => {
  const rule = validateRule(input, { tagNums });
  const params = new SqlParams(2);
  return { sql: compileRule(rule, { tagNums, now, params }), params: params.values, rule };
};

const problems = (input: unknown) => {
  try {
    validateRule(input, { tagNums });
  } catch (e) {
    return (e as AppError).details;
  }
  throw new Error('expected a validation error');
};

describe('segment rules', () => {
  it('compiles "high intent AND product B AND silent 14 days" to index-friendly SQL with bound values', () => {
    const { sql, params, rule } = compile({
      all: [{ tag: HIGH }, { tag: PRODUCT_B }, { daysSince: { field: 'lastContacted', op: 'gte', days: 14 } }],
    });
    expect(sql).toBe(
      '((c.tag_nums @> ARRAY[$2::int]) AND (c.tag_nums @> ARRAY[$3::int]) AND ' +
        '(c.last_contacted_at IS NULL OR c.last_contacted_at <= $4::timestamptz))',
    );
    expect(params).toEqual([7, 9, '2026-11-09T00:00:00.000Z']);
    expect(referencedTags(rule)).toEqual([HIGH, PRODUCT_B]);
    expect(timeFields(rule)).toEqual(['lastContacted']);
  });

  it('compiles each predicate kind', () => {
    const cases: [unknown, string, unknown[]][] = [
      [{ tags: { any: [HIGH, PRODUCT_B] } }, '(c.tag_nums && $2::int[])', [[7, 9]]],
      [{ tags: { all: [HIGH] } }, '(c.tag_nums @> $2::int[])', [[7]]],
      [{ metric: { name: 'spend30d', op: 'gte', value: 500 } }, '(c.spend_30d >= $2)', [500]],
      [{ attribute: { key: 'region', op: 'eq', value: 'Shanghai' } }, '(c.attributes @> jsonb_build_object($2::text, $3::jsonb))', ['region', '"Shanghai"']],
      [{ attribute: { key: 'vip', op: 'exists' } }, 'jsonb_exists(c.attributes, $2::text)', ['vip']],
      [{ daysSince: { field: 'lastOrder', op: 'lt', days: 30 } }, 'COALESCE(c.last_order_at > $2::timestamptz, false)', ['2026-10-24T00:00:00.000Z']],
      [{ owner: { users: [HIGH] } }, 'COALESCE(c.owner_id = ANY($2::uuid[]), false)', [[HIGH]]],
    ];
    for (const [input, sql, params] of cases) expect(compile(input)).toMatchObject({ sql, params });
  });

  it('keeps injection attempts in keys and values out of the SQL text', () => {
    const evil = "x'); DROP TABLE contacts;--";
    const { sql, params } = compile({
      any: [{ attribute: { key: 'note', op: 'contains', value: evil } }, { attribute: { key: 'note', op: 'in', value: [evil, 1] } }],
    });
    expect(sql).not.toContain('DROP');
    expect(sql).not.toContain("'");
    expect(params).toContain(evil);
    expect(problems({ attribute: { key: evil, op: 'exists' } })).toEqual([{ path: 'rule.attribute.key', problem: 'must match /^[A-Za-z0-9_.-]{1,64}$/' }]);
  });

  it('makes every predicate NULL-safe so `not` includes contacts lacking the data', () => {
    const { sql } = compile({ not: { attribute: { key: 'age', op: 'gt', value: 30 } } });
    expect(sql).toMatch(/^\(NOT COALESCE\(CASE WHEN jsonb_typeof/);
    expect(sql).toContain(', false))');
  });

  it('reports every problem at its JSON path', () => {
    expect(problems({
      all: [
        { tag: '33333333-3333-4333-8333-333333333333' },
        { attribute: { key: 'age', op: 'between', value: 3 } },
        { metric: { name: 'ltv', op: 'gt', value: 'high' } },
        { daysSince: { field: 'lastContacted', op: 'gte', days: 1.5 } },
        { tags: { any: [] } },
        { owner: {} },
        { whatever: 1 },
        { tag: HIGH, extra: 1 },
      ],
    })).toEqual([
      { path: 'rule.all[0].tag', problem: 'unknown tag' },
      { path: 'rule.all[1].attribute.op', problem: 'must be one of eq, ne, lt, lte, gt, gte, in, contains, exists' },
      { path: 'rule.all[2].metric.name', problem: 'must be one of orderCount, totalSpend, spend30d' },
      { path: 'rule.all[2].metric.value', problem: 'must be a number' },
      { path: 'rule.all[3].daysSince.days', problem: 'must be a whole number of days from 0 to 3650' },
      { path: 'rule.all[4].tags.any', problem: 'must be a list of 1 to 1000 ids' },
      { path: 'rule.all[5].owner', problem: 'must give users or teams' },
      { path: 'rule.all[6].whatever', problem: expect.stringMatching(/^unknown rule kind/) },
      { path: 'rule.all[7]', problem: expect.stringMatching(/^must have exactly one of/) },
    ]);
  });

  it('limits depth and size', () => {
    let deep: Rule = { tag: HIGH };
    for (let i = 0; i < 9; i++) deep = { not: deep };
    expect(problems(deep)).toEqual([{ path: 'rule.not.not.not.not.not.not.not.not', problem: 'nesting deeper than 8 levels' }]);
    const wide = { any: Array.from({ length: 101 }, () => ({ tag: HIGH })) };
    expect(problems(wide)).toEqual([{ path: 'rule.any[100]', problem: 'more than 100 predicates' }]);
    expect(problems([])).toEqual([{ path: 'rule', problem: 'must be an object' }]);
  });
});
