/**
 * Segment rules: a JSON tree of all / any / not over predicates about a contact. Pure types and
 * limits; validate.ts checks untrusted input against them and compile.ts turns them into SQL.
 */

/** Longest root-to-leaf chain of nodes, the leaf predicate included: `{ tag }` alone is depth 1. */
export const MAX_DEPTH = 8;
/** Leaf predicates in one rule: bounds the size of the SQL a rule compiles to. */
export const MAX_PREDICATES = 100;
/** Ids (or `in` values) in one list. */
export const MAX_IDS = 1000;
export const MAX_SILENCE_DAYS = 3650;
/** Longest text a `contains` predicate looks for (each one is a case-folded search through every candidate's value). */
export const MAX_CONTAINS_LENGTH = 200;

export const COMPARISONS = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte'] as const;
export const NUMERIC_OPS = ['lt', 'lte', 'gt', 'gte'] as const;
export const ATTRIBUTE_OPS = [...COMPARISONS, 'in', 'contains', 'exists'] as const;
export const METRICS = ['orderCount', 'totalSpend', 'spend30d'] as const;
export const TIME_FIELDS = ['lastContacted', 'lastResponded', 'lastOrder'] as const;
export const SILENCE_OPS = ['gte', 'lt'] as const;
export const GROUP_KINDS = ['all', 'any', 'not'] as const;
export const PREDICATE_KINDS = ['tag', 'tags', 'tagWeight', 'attribute', 'metric', 'daysSince', 'owner', 'group'] as const;
export const RULE_KINDS = [...GROUP_KINDS, ...PREDICATE_KINDS] as const;

export type Comparison = (typeof COMPARISONS)[number];
export type NumericOp = (typeof NUMERIC_OPS)[number];
export type AttributeOp = (typeof ATTRIBUTE_OPS)[number];
export type Metric = (typeof METRICS)[number];
export type TimeField = (typeof TIME_FIELDS)[number];
export type SilenceOp = (typeof SILENCE_OPS)[number];
export type RuleKind = (typeof RULE_KINDS)[number];
export type Scalar = string | number | boolean;
export type AttributeValue = Scalar | Array<string | number>;

/** Tag ids are lowercase UUIDs once validated (so `referencedTags` matches ids read from Postgres). */
export type TagPredicate = { tag: string };
export type TagsPredicate = { tags: { any: string[] } | { all: string[] } };
export type TagWeightPredicate = { tagWeight: { tag: string; gte: number } };

/** The op decides what `value` must be; `exists` takes none. */
export type AttributeCondition =
  | { key: string; op: 'eq' | 'ne'; value: Scalar }
  | { key: string; op: NumericOp; value: number }
  | { key: string; op: 'in'; value: Array<string | number> }
  | { key: string; op: 'contains'; value: string }
  | { key: string; op: 'exists' };
export type AttributePredicate = { attribute: AttributeCondition };

export type MetricPredicate = { metric: { name: Metric; op: Comparison; value: number } };
export type DaysSincePredicate = { daysSince: { field: TimeField; op: SilenceOp; days: number } };
/** At least one of the lists is non-empty (validation guarantees it). */
export type OwnerPredicate = { owner: { users?: string[]; teams?: string[] } };
export type GroupPredicate = { group: { any: string[] } };

export type Predicate =
  | TagPredicate
  | TagsPredicate
  | TagWeightPredicate
  | AttributePredicate
  | MetricPredicate
  | DaysSincePredicate
  | OwnerPredicate
  | GroupPredicate;

export type AllRule = { all: Rule[] };
export type AnyRule = { any: Rule[] };
export type NotRule = { not: Rule };
export type Rule = AllRule | AnyRule | NotRule | Predicate;

/** Every tag id a rule mentions, sorted and unique: a tag cannot be deleted while a saved rule uses it. */
export function referencedTags(rule: Rule): string[] {
  const ids = new Set<string>();
  walk(rule, (p) => {
    if ('tag' in p) ids.add(p.tag);
    else if ('tags' in p) ('any' in p.tags ? p.tags.any : p.tags.all).forEach((id) => ids.add(id));
    else if ('tagWeight' in p) ids.add(p.tagWeight.tag);
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

/** Whether a rule looks at the contact's owner (or the owner's team): only such rules change with an owner. */
export function readsOwner(rule: Rule): boolean {
  let found = false;
  walk(rule, (p) => {
    if ('owner' in p) found = true;
  });
  return found;
}

/** Visits every leaf predicate, left to right. */
export function walk(rule: Rule, visit: (p: Predicate) => void): void {
  if ('all' in rule) rule.all.forEach((r) => walk(r, visit));
  else if ('any' in rule) rule.any.forEach((r) => walk(r, visit));
  else if ('not' in rule) walk(rule.not, visit);
  else visit(rule);
}
