/** The segment rule language as the editor holds it (the API's libs/domain/src/segments/rule.ts is the law). */
export type Json = Record<string, unknown>;
export type Rule = Json;

export const PREDICATE_KINDS = ['tag', 'tags', 'tagWeight', 'attribute', 'metric', 'daysSince', 'owner', 'group'] as const;
export type PredicateKind = (typeof PREDICATE_KINDS)[number];
export const ATTRIBUTE_OPS = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'contains', 'exists'] as const;
export const COMPARISONS = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte'] as const;
export const METRICS = ['orderCount', 'totalSpend', 'spend30d'] as const;
export const TIME_FIELDS = ['lastContacted', 'lastResponded', 'lastOrder'] as const;

export const kindOf = (rule: Rule): string => Object.keys(rule)[0] ?? '';
export const isGroup = (rule: Rule) => 'all' in rule || 'any' in rule;

/** A fresh predicate of a kind, with sensible defaults where the language allows one. */
export function newPredicate(kind: PredicateKind): Rule {
  switch (kind) {
    case 'tag': return { tag: '' };
    case 'tags': return { tags: { any: [] } };
    case 'tagWeight': return { tagWeight: { tag: '', gte: 1 } };
    case 'attribute': return { attribute: { key: '', op: 'eq', value: '' } };
    case 'metric': return { metric: { name: 'totalSpend', op: 'gte', value: 0 } };
    case 'daysSince': return { daysSince: { field: 'lastContacted', op: 'gte', days: 14 } };
    case 'owner': return { owner: { users: [] } };
    case 'group': return { group: { any: [] } };
  }
}

/** Whether every predicate has what it needs: only then is the rule sent for a count. */
export function isComplete(rule: Rule): boolean {
  const kind = kindOf(rule);
  const v = rule[kind] as Json & unknown[];
  switch (kind) {
    case 'all': case 'any': return (v as unknown as Rule[]).length > 0 && (v as unknown as Rule[]).every(isComplete);
    case 'not': return isComplete(v as Rule);
    case 'tag': return Boolean(v);
    case 'tags': return ((v.any ?? v.all) as string[]).length > 0;
    case 'tagWeight': return Boolean(v.tag) && typeof v.gte === 'number';
    case 'attribute': return Boolean(String(v.key ?? '').trim()) && (v.op === 'exists' || (v.value !== '' && v.value !== undefined && !(Array.isArray(v.value) && !v.value.length)));
    case 'metric': return typeof v.value === 'number';
    case 'daysSince': return typeof v.days === 'number';
    case 'owner': return ((v.users as string[] | undefined)?.length ?? 0) + ((v.teams as string[] | undefined)?.length ?? 0) > 0;
    case 'group': return (v.any as string[]).length > 0;
    default: return false;
  }
}

/** What a typed attribute value means: numbers as numbers, true/false as booleans, lists for `in`. */
export function parseAttributeValue(op: string, text: string): unknown {
  const scalar = (s: string) => {
    const t = s.trim();
    if (t !== '' && !Number.isNaN(Number(t))) return Number(t);
    if (op !== 'contains' && (t === 'true' || t === 'false')) return t === 'true';
    return t;
  };
  if (op === 'in') return text.split(/[,，]/).map((s) => s.trim()).filter(Boolean).map((s) => scalar(s) as string | number);
  if (op === 'contains') return text;
  return scalar(text);
}

export const formatAttributeValue = (value: unknown) => (Array.isArray(value) ? value.join(', ') : value === undefined ? '' : String(value));
