import type { Comparison, Metric, Predicate, Rule, TimeField } from './rule';
import type { SqlParams } from './sql-params';

export interface CompileContext {
  tagNums: ReadonlyMap<string, number>;
  /** The moment "days since" is measured from; passed in so compilation stays pure. */
  now: Date;
  params: SqlParams;
}

const METRIC_COLUMNS: Record<Metric, string> = { orderCount: 'c.order_count', totalSpend: 'c.total_spend', spend30d: 'c.spend_30d' };
const TIME_COLUMNS: Record<TimeField, string> = {
  lastContacted: 'c.last_contacted_at', lastResponded: 'c.last_responded_at', lastOrder: 'c.last_order_at',
};
const SQL_OPS: Record<Comparison, string> = { eq: '=', ne: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' };
const DAY_MS = 86_400_000;

/**
 * Compiles a validated rule into a boolean SQL expression over `contacts c`. Every value and every
 * attribute key is a bind parameter. Each predicate yields true or false, never NULL, so `not`
 * means what a person expects ("not in Shanghai" includes contacts with no region).
 */
export function compileRule(rule: Rule, ctx: CompileContext): string {
  if ('all' in rule) return `(${rule.all.map((r) => compileRule(r, ctx)).join(' AND ')})`;
  if ('any' in rule) return `(${rule.any.map((r) => compileRule(r, ctx)).join(' OR ')})`;
  if ('not' in rule) return `(NOT ${compileRule(rule.not, ctx)})`;
  return predicate(rule, ctx);
}

function predicate(p: Predicate, ctx: CompileContext): string {
  const { params } = ctx;
  const num = (id: string) => {
    const n = ctx.tagNums.get(id.toLowerCase());
    if (n === undefined) throw new Error(`tag ${id} was not validated`);
    return n;
  };
  // tag_nums is GIN-indexed: @> (contains all) and && (overlaps) can use it.
  if ('tag' in p) return `(c.tag_nums @> ARRAY[${params.add(num(p.tag))}::int])`;
  if ('tags' in p) {
    return 'any' in p.tags
      ? `(c.tag_nums && ${params.add(p.tags.any.map(num))}::int[])`
      : `(c.tag_nums @> ${params.add(p.tags.all.map(num))}::int[])`;
  }
  if ('tagWeight' in p) {
    return `EXISTS (SELECT 1 FROM contact_tags ct WHERE ct.contact_id = c.id AND ct.tag_num = ${params.add(num(p.tagWeight.tag))}` +
      ` AND ct.weight >= ${params.add(p.tagWeight.gte)})`;
  }
  if ('metric' in p) return `(${METRIC_COLUMNS[p.metric.name]} ${SQL_OPS[p.metric.op]} ${params.add(p.metric.value)})`;
  if ('daysSince' in p) {
    const column = TIME_COLUMNS[p.daysSince.field];
    const cutoff = params.add(new Date(ctx.now.getTime() - p.daysSince.days * DAY_MS).toISOString());
    // Silent for N days includes never: a contact nobody ever reached is as silent as can be.
    return p.daysSince.op === 'gte'
      ? `(${column} IS NULL OR ${column} <= ${cutoff}::timestamptz)`
      : `COALESCE(${column} > ${cutoff}::timestamptz, false)`;
  }
  if ('owner' in p) {
    const parts = [];
    if (p.owner.users) parts.push(`c.owner_id = ANY(${params.add(p.owner.users)}::uuid[])`);
    if (p.owner.teams) {
      parts.push(`c.owner_id IN (SELECT u.id FROM users u WHERE u.tenant_id = c.tenant_id AND u.team_id = ANY(${params.add(p.owner.teams)}::uuid[]))`);
    }
    return `COALESCE(${parts.join(' OR ')}, false)`;
  }
  if ('group' in p) {
    return `EXISTS (SELECT 1 FROM group_members gm WHERE gm.contact_id = c.id AND gm.group_id = ANY(${params.add(p.group.any)}::uuid[]))`;
  }
  return attribute(p.attribute, params);
}

function attribute({ key, op, value }: { key: string; op: string; value?: unknown }, params: SqlParams): string {
  const k = params.add(key);
  switch (op) {
    case 'exists':
      return `jsonb_exists(c.attributes, ${k}::text)`;
    case 'eq': // containment can use the jsonb_path_ops GIN index
      return `(c.attributes @> jsonb_build_object(${k}::text, ${params.add(JSON.stringify(value))}::jsonb))`;
    case 'ne': // a contact without the attribute is "not equal"
      return `(NOT c.attributes @> jsonb_build_object(${k}::text, ${params.add(JSON.stringify(value))}::jsonb))`;
    case 'in': // [value] contained in the list: one cheap test per row, no subquery
      return `COALESCE(jsonb_build_array(c.attributes -> ${k}::text) <@ ${params.add(JSON.stringify(value))}::jsonb, false)`;
    case 'contains':
      return `COALESCE(strpos(lower(c.attributes ->> ${k}::text), lower(${params.add(value)}::text)) > 0, false)`;
    default: // numeric comparison; a stored non-number never matches and never raises
      return `COALESCE(CASE WHEN jsonb_typeof(c.attributes -> ${k}::text) = 'number' THEN (c.attributes ->> ${k}::text)::numeric END` +
        ` ${SQL_OPS[op as Comparison]} ${params.add(value)}::numeric, false)`;
  }
}
