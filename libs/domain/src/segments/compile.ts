import type {
  AttributeCondition, Comparison, DaysSincePredicate, Metric, OwnerPredicate, Predicate, Rule, TagsPredicate, TimeField,
} from './rule';
import type { SqlParams } from './sql-params';

export interface CompileContext {
  /** The tenant's tags: lowercase id -> tag number (contacts.tag_nums holds numbers, not ids). */
  tagNums: ReadonlyMap<string, number>;
  /** The moment "days since" is measured from; an input so compilation stays pure and replayable. */
  now: Date;
  /** Receives every value and key; the caller binds `params.values` after its own parameters. */
  params: SqlParams;
}

const METRIC_COLUMNS: Record<Metric, string> = { orderCount: 'c.order_count', totalSpend: 'c.total_spend', spend30d: 'c.spend_30d' };
const TIME_COLUMNS: Record<TimeField, string> = {
  lastContacted: 'c.last_contacted_at', lastResponded: 'c.last_responded_at', lastOrder: 'c.last_order_at',
};
const SQL_OPS: Record<Comparison, string> = { eq: '=', ne: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' };
const DAY_MS = 86_400_000;

/** `now` minus whole 24-hour days, as the ISO string bound for `::timestamptz`. */
export function silenceCutoff(now: Date, days: number): string {
  return new Date(now.getTime() - days * DAY_MS).toISOString();
}

/**
 * Compiles a validated rule into a boolean SQL expression over `contacts c`. Every value and every
 * attribute key is a bind parameter; the SQL text only ever holds fixed fragments and `$n`.
 * Each predicate yields true or false, never NULL, so `not` means what a person expects
 * ("not in Shanghai" includes contacts with no region), and `all` / `any` never go NULL either.
 */
export function compileRule(rule: Rule, ctx: CompileContext): string {
  // Validation rejects empty lists; stay correct for hand-built rules: all() is TRUE, any() is FALSE.
  if ('all' in rule) return rule.all.length ? `(${rule.all.map((r) => compileRule(r, ctx)).join(' AND ')})` : 'TRUE';
  if ('any' in rule) return rule.any.length ? `(${rule.any.map((r) => compileRule(r, ctx)).join(' OR ')})` : 'FALSE';
  if ('not' in rule) return `(NOT ${compileRule(rule.not, ctx)})`;
  return predicate(rule, ctx);
}

function predicate(p: Predicate, ctx: CompileContext): string {
  const { params } = ctx;
  // contacts.tag_nums is NOT NULL and GIN-indexed: @> (contains all) and && (overlaps) use the index.
  if ('tag' in p) return `(c.tag_nums @> ARRAY[${params.add(tagNum(p.tag, ctx))}]::int[])`;
  if ('tags' in p) return tags(p.tags, ctx);
  if ('tagWeight' in p) {
    // A NULL weight fails >=, so the tag without a weight does not count; EXISTS itself is never NULL.
    const num = params.add(tagNum(p.tagWeight.tag, ctx));
    return `EXISTS (SELECT 1 FROM contact_tags ct WHERE ct.contact_id = c.id AND ct.tag_num = ${num} AND ct.weight >= ${params.add(p.tagWeight.gte)})`;
  }
  if ('attribute' in p) return attribute(p.attribute, params);
  // Metric columns are NOT NULL; ::numeric so a fractional value is not parsed as order_count's integer.
  if ('metric' in p) return `(${METRIC_COLUMNS[p.metric.name]} ${SQL_OPS[p.metric.op]} ${params.add(p.metric.value)}::numeric)`;
  if ('daysSince' in p) return daysSince(p.daysSince, ctx);
  if ('owner' in p) return owner(p.owner, params);
  return `EXISTS (SELECT 1 FROM group_members gm WHERE gm.contact_id = c.id AND gm.group_id = ANY(${params.add(p.group.any)}::uuid[]))`;
}

function tagNum(id: string, ctx: CompileContext): number {
  const num = ctx.tagNums.get(id.toLowerCase());
  if (num === undefined) throw new Error(`Tag ${id} is not one of the tenant's tags; validate the rule first.`);
  return num;
}

function tags(t: TagsPredicate['tags'], ctx: CompileContext): string {
  const nums = (ids: string[]) => ctx.params.add(ids.map((id) => tagNum(id, ctx)));
  return 'any' in t ? `(c.tag_nums && ${nums(t.any)}::int[])` : `(c.tag_nums @> ${nums(t.all)}::int[])`;
}

/**
 * `gte N`: silent for at least N days. Never (NULL) counts as silent: a contact nobody ever reached
 * is as silent as can be. `lt N`: active within the last N days; never is not recent.
 * Days are 24-hour periods back from `now`, not calendar days.
 */
function daysSince({ field, op, days }: DaysSincePredicate['daysSince'], ctx: CompileContext): string {
  const column = TIME_COLUMNS[field];
  const cutoff = `${ctx.params.add(silenceCutoff(ctx.now, days))}::timestamptz`;
  return op === 'gte' ? `(${column} IS NULL OR ${column} <= ${cutoff})` : `COALESCE(${column} > ${cutoff}, false)`;
}

/** A contact without an owner matches no owner list (COALESCE turns the NULL into false). */
function owner({ users, teams }: OwnerPredicate['owner'], params: SqlParams): string {
  const parts: string[] = [];
  if (users?.length) parts.push(`c.owner_id = ANY(${params.add(users)}::uuid[])`);
  if (teams?.length) {
    parts.push(`c.owner_id IN (SELECT u.id FROM users u WHERE u.tenant_id = c.tenant_id AND u.team_id = ANY(${params.add(teams)}::uuid[]))`);
  }
  return parts.length ? `COALESCE(${parts.join(' OR ')}, false)` : 'FALSE';
}

/**
 * contacts.attributes is a NOT NULL jsonb object, but a key may be missing or hold any JSON type;
 * every branch is written so that neither case yields NULL or raises.
 */
function attribute(a: AttributeCondition, params: SqlParams): string {
  const key = `${params.add(a.key)}::text`;
  const json = (value: unknown) => `${params.add(JSON.stringify(value))}::jsonb`;
  switch (a.op) {
    case 'exists': // `->` gives SQL NULL only for a missing key (a JSON null is still there); avoids the `?` operator
      return `(c.attributes -> ${key} IS NOT NULL)`;
    case 'eq': // JSON equality, so "30" is not 30; containment can use the jsonb_path_ops GIN index
      return `(c.attributes @> jsonb_build_object(${key}, ${json(a.value)}))`;
    case 'ne': // a contact without the attribute is "not equal"
      return `(NOT c.attributes @> jsonb_build_object(${key}, ${json(a.value)}))`;
    case 'in': // [value] contained in the list: one cheap test per row, no subquery; a missing key gives [null]
      return `COALESCE(jsonb_build_array(c.attributes -> ${key}) <@ ${json(a.value)}, false)`;
    case 'contains': // strpos, not LIKE: % and _ in the value are plain characters
      return `COALESCE(jsonb_typeof(c.attributes -> ${key}) = 'string'` +
        ` AND strpos(lower(c.attributes ->> ${key}), lower(${params.add(a.value)}::text)) > 0, false)`;
    default: // numeric comparison; a stored non-number never matches and never raises a cast error
      return `COALESCE(CASE WHEN jsonb_typeof(c.attributes -> ${key}) = 'number' THEN (c.attributes ->> ${key})::numeric END` +
        ` ${SQL_OPS[a.op]} ${params.add(a.value)}::numeric, false)`;
  }
}
