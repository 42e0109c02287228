/**
 * Segment rules: a JSON tree of all / any / not over predicates about a contact. Pure types and
 * limits; validate.ts checks untrusted input against them and compile.ts turns them into SQL.
 */
export const MAX_DEPTH = 8;
export const MAX_PREDICATES = 100;
export const MAX_IDS = 1000;

export const COMPARISONS = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte'] as const;
export const ATTRIBUTE_OPS = [...COMPARISONS, 'in', 'contains', 'exists'] as const;
export const METRICS = ['orderCount', 'totalSpend', 'spend30d'] as const;
export const TIME_FIELDS = ['lastContacted', 'lastResponded', 'lastOrder'] as const;
export const SILENCE_OPS = ['gte', 'lt'] as const;

export type Comparison = (typeof COMPARISONS)[number];
export type AttributeOp = (typeof ATTRIBUTE_OPS)[number];
export type Metric = (typeof METRICS)[number];
export type TimeField = (typeof TIME_FIELDS)[number];
export type AttributeValue = string | number | boolean | Array<string | number>;

export type Predicate =
  | { tag: string }
  | { tags: { any: string[] } | { all: string[] } }
  | { tagWeight: { tag: string; gte: number } }
  | { attribute: { key: string; op: AttributeOp; value?: AttributeValue } }
  | { metric: { name: Metric; op: Comparison; value: number } }
  | { daysSince: { field: TimeField; op: (typeof SILENCE_OPS)[number]; days: number } }
  | { owner: { users?: string[]; teams?: string[] } }
  | { group: { any: string[] } };

export type Rule = { all: Rule[] } | { any: Rule[] } | { not: Rule } | Predicate;

/** Every tag id a rule mentions: a tag cannot be deleted while a saved rule uses it. */
export function referencedTags(rule: Rule): string[] {
  const ids = new Set<string>();
  walk(rule, (p) => {
    if ('tag' in p) ids.add(p.tag);
    if ('tags' in p) ('any' in p.tags ? p.tags.any : p.tags.all).forEach((id) => ids.add(id));
    if ('tagWeight' in p) ids.add(p.tagWeight.tag);
  });
  return [...ids].sort();
}

/** The activity times a rule looks at: such segments change with the clock and need the silence sweep. */
export function timeFields(rule: Rule): TimeField[] {
  const fields = new Set<TimeField>();
  walk(rule, (p) => {
    if ('daysSince' in p) fields.add(p.daysSince.field);
  });
  return [...fields].sort();
}

export function walk(rule: Rule, visit: (p: Predicate) => void): void {
  if ('all' in rule) rule.all.forEach((r) => walk(r, visit));
  else if ('any' in rule) rule.any.forEach((r) => walk(r, visit));
  else if ('not' in rule) walk(rule.not, visit);
  else visit(rule);
}
