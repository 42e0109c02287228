import { compileRule, silenceCutoff } from './compile';
import type { Rule } from './rule';
import { SqlParams } from './sql-params';
import { validateRule } from './validate';

const HIGH = '11111111-1111-4111-8111-111111111111';
const PRODUCT_B = '22222222-2222-4222-8222-222222222222';
const USER = '33333333-3333-4333-8333-333333333333';
const TEAM = '44444444-4444-4444-8444-444444444444';
const GROUP = '55555555-5555-4555-8555-555555555555';
const tagNums = new Map([[HIGH, 7], [PRODUCT_B, 9]]);
const now = new Date('2026-11-23T00:00:00Z');

/** Validates like the API does, then compiles after a caller-owned `$1` (the tenant id). */
const compile = (input: unknown) => {
  const rule = validateRule(input, { tagNums });
  const params = new SqlParams(2);
  return { sql: compileRule(rule, { tagNums, now, params }), params: params.values };
};

describe('compileRule', () => {
  it('compiles "high intent AND product B AND silent 14 days" to index-friendly SQL with bound values', () => {
    const { sql, params } = compile({
      all: [{ tag: HIGH }, { tag: PRODUCT_B }, { daysSince: { field: 'lastContacted', op: 'gte', days: 14 } }],
    });
    expect(sql).toBe(
      '((c.tag_nums @> ARRAY[$2]::int[]) AND (c.tag_nums @> ARRAY[$3]::int[]) AND ' +
        '(c.last_contacted_at IS NULL OR c.last_contacted_at <= $4::timestamptz))',
    );
    expect(params).toEqual([7, 9, '2026-11-09T00:00:00.000Z']);
  });

  it.each<[string, unknown, string, unknown[]]>([
    ['tag', { tag: HIGH }, '(c.tag_nums @> ARRAY[$2]::int[])', [7]],
    ['tags any', { tags: { any: [HIGH, PRODUCT_B] } }, '(c.tag_nums && $2::int[])', [[7, 9]]],
    ['tags all', { tags: { all: [HIGH, PRODUCT_B] } }, '(c.tag_nums @> $2::int[])', [[7, 9]]],
    ['tagWeight', { tagWeight: { tag: HIGH, gte: 2.5 } },
      'EXISTS (SELECT 1 FROM contact_tags ct WHERE ct.contact_id = c.id AND ct.tag_num = $2 AND ct.weight >= $3)', [7, 2.5]],
    ['attribute eq', { attribute: { key: 'region', op: 'eq', value: 'Shanghai' } },
      '(c.attributes @> jsonb_build_object($2::text, $3::jsonb))', ['region', '"Shanghai"']],
    ['attribute eq boolean', { attribute: { key: 'vip', op: 'eq', value: true } },
      '(c.attributes @> jsonb_build_object($2::text, $3::jsonb))', ['vip', 'true']],
    ['attribute ne', { attribute: { key: 'age', op: 'ne', value: 30 } },
      '(NOT c.attributes @> jsonb_build_object($2::text, $3::jsonb))', ['age', '30']],
    ['attribute lt', { attribute: { key: 'age', op: 'lt', value: 30 } },
      "COALESCE(CASE WHEN jsonb_typeof(c.attributes -> $2::text) = 'number' THEN (c.attributes ->> $2::text)::numeric END < $3::numeric, false)",
      ['age', 30]],
    ['attribute gte', { attribute: { key: 'age', op: 'gte', value: 18 } },
      "COALESCE(CASE WHEN jsonb_typeof(c.attributes -> $2::text) = 'number' THEN (c.attributes ->> $2::text)::numeric END >= $3::numeric, false)",
      ['age', 18]],
    ['attribute in', { attribute: { key: 'region', op: 'in', value: ['Shanghai', 21] } },
      'COALESCE(jsonb_build_array(c.attributes -> $2::text) <@ $3::jsonb, false)', ['region', '["Shanghai",21]']],
    ['attribute contains', { attribute: { key: 'note', op: 'contains', value: 'VIP' } },
      "COALESCE(jsonb_typeof(c.attributes -> $2::text) = 'string' AND strpos(lower(c.attributes ->> $2::text), lower($3::text)) > 0, false)",
      ['note', 'VIP']],
    ['attribute exists', { attribute: { key: 'wechat.id', op: 'exists' } }, '(c.attributes -> $2::text IS NOT NULL)', ['wechat.id']],
    ['metric', { metric: { name: 'spend30d', op: 'gte', value: 500 } }, '(c.spend_30d >= $2::numeric)', [500]],
    ['metric on the integer column', { metric: { name: 'orderCount', op: 'ne', value: 2.5 } }, '(c.order_count <> $2::numeric)', [2.5]],
    ['daysSince gte', { daysSince: { field: 'lastResponded', op: 'gte', days: 0 } },
      '(c.last_responded_at IS NULL OR c.last_responded_at <= $2::timestamptz)', ['2026-11-23T00:00:00.000Z']],
    ['daysSince lt', { daysSince: { field: 'lastOrder', op: 'lt', days: 30 } },
      'COALESCE(c.last_order_at > $2::timestamptz, false)', ['2026-10-24T00:00:00.000Z']],
    ['owner users', { owner: { users: [USER] } }, 'COALESCE(c.owner_id = ANY($2::uuid[]), false)', [[USER]]],
    ['owner teams', { owner: { users: [], teams: [TEAM] } },
      'COALESCE(c.owner_id IN (SELECT u.id FROM users u WHERE u.tenant_id = c.tenant_id AND u.team_id = ANY($2::uuid[])), false)', [[TEAM]]],
    ['owner users or teams', { owner: { users: [USER], teams: [TEAM] } },
      'COALESCE(c.owner_id = ANY($2::uuid[]) OR c.owner_id IN (SELECT u.id FROM users u WHERE u.tenant_id = c.tenant_id AND u.team_id = ANY($3::uuid[])), false)',
      [[USER], [TEAM]]],
    ['group', { group: { any: [GROUP] } },
      'EXISTS (SELECT 1 FROM group_members gm WHERE gm.contact_id = c.id AND gm.group_id = ANY($2::uuid[]))', [[GROUP]]],
  ])('compiles %s', (_name, input, sql, params) => {
    expect(compile(input)).toEqual({ sql, params });
  });

  it('joins any with OR and wraps not, numbering placeholders left to right', () => {
    expect(compile({ any: [{ not: { tag: HIGH } }, { metric: { name: 'orderCount', op: 'gt', value: 3 } }] })).toEqual({
      sql: '((NOT (c.tag_nums @> ARRAY[$2]::int[])) OR (c.order_count > $3::numeric))',
      params: [7, 3],
    });
  });

  it('keeps injection attempts in keys and values out of the SQL text', () => {
    const key = "x'); DROP TABLE contacts;--";
    const value = "Shanghai' OR '1'='1";
    // Bypasses validation on purpose: even an unchecked key is only ever a parameter.
    const rule: Rule = {
      any: [
        { attribute: { key, op: 'eq', value } },
        { attribute: { key, op: 'contains', value } },
        { attribute: { key, op: 'in', value: [value] } },
        { attribute: { key, op: 'gt', value: 1 } },
        { attribute: { key, op: 'exists' } },
      ],
    };
    const params = new SqlParams(1);
    const sql = compileRule(rule, { tagNums, now, params });
    for (const fragment of ['DROP', 'contacts;', '--', 'Shanghai', "'1'", ' x']) expect(sql).not.toContain(fragment);
    // The only quotes in the text are the fixed jsonb type names.
    expect(sql.replace(/'(number|string)'/g, '')).not.toContain("'");
    expect(params.values.filter((v) => v === key)).toHaveLength(5);
    expect(params.values).toEqual(expect.arrayContaining([value, JSON.stringify(value), JSON.stringify([value])]));
  });

  it('makes every predicate that can meet NULL fall back to false, so `not` includes contacts lacking the data', () => {
    const nullable: unknown[] = [
      { attribute: { key: 'age', op: 'gt', value: 30 } },
      { attribute: { key: 'age', op: 'in', value: [30] } },
      { attribute: { key: 'note', op: 'contains', value: 'x' } },
      { daysSince: { field: 'lastContacted', op: 'lt', days: 7 } },
      { owner: { users: [USER] } },
      { owner: { teams: [TEAM] } },
    ];
    for (const p of nullable) expect(compile({ not: p }).sql).toMatch(/^\(NOT COALESCE\(.*, false\)\)$/);
    // The rest cannot be NULL: NOT NULL columns, EXISTS, IS NULL OR, IS NOT NULL.
    expect(compile({ not: { daysSince: { field: 'lastContacted', op: 'gte', days: 7 } } }).sql)
      .toBe('(NOT (c.last_contacted_at IS NULL OR c.last_contacted_at <= $2::timestamptz))');
    expect(compile({ not: { attribute: { key: 'x', op: 'exists' } } }).sql).toBe('(NOT (c.attributes -> $2::text IS NOT NULL))');
  });

  it('measures silence in 24-hour days back from the given now', () => {
    expect(silenceCutoff(new Date('2026-03-01T08:30:00.000Z'), 1)).toBe('2026-02-28T08:30:00.000Z');
    expect(silenceCutoff(new Date('2028-03-01T00:00:00.000Z'), 1)).toBe('2028-02-29T00:00:00.000Z');
    expect(silenceCutoff(now, 3650)).toBe('2016-11-25T00:00:00.000Z');
    const params = new SqlParams(1);
    compileRule({ daysSince: { field: 'lastContacted', op: 'gte', days: 14 } }, { tagNums, now: new Date('2026-01-10T12:00:00Z'), params });
    expect(params.values).toEqual(['2025-12-27T12:00:00.000Z']);
  });

  it('compiles hand-built empty lists to constants and refuses tags missing from the map', () => {
    const ctx = { tagNums, now, params: new SqlParams(1) };
    expect(compileRule({ all: [] }, ctx)).toBe('TRUE');
    expect(compileRule({ any: [] }, ctx)).toBe('FALSE');
    expect(() => compileRule({ tag: '99999999-9999-4999-8999-999999999999' }, ctx)).toThrow(/not one of the tenant's tags/);
  });

  it('looks tags up case-insensitively, for rules saved before ids were lowercased', () => {
    const params = new SqlParams(1);
    expect(compileRule({ tags: { all: [HIGH.toUpperCase()] } }, { tagNums, now, params })).toBe('(c.tag_nums @> $1::int[])');
    expect(params.values).toEqual([[7]]);
  });

  it('shares one SqlParams across several rules, as the membership query does', () => {
    const params = new SqlParams(3);
    const a = compileRule({ tag: HIGH }, { tagNums, now, params });
    const b = compileRule({ tag: PRODUCT_B }, { tagNums, now, params });
    expect([a, b]).toEqual(['(c.tag_nums @> ARRAY[$3]::int[])', '(c.tag_nums @> ARRAY[$4]::int[])']);
    expect(params.values).toEqual([7, 9]);
  });
});
