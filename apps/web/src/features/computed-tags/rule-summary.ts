import type { TFunction } from 'i18next';
import type { Json, Rule } from '../segments/rule-model';

const SYMBOLS: Record<string, string> = { eq: '=', ne: '≠', lt: '<', lte: '≤', gt: '>', gte: '≥' };

/**
 * A rule in one line for lists ("近 30 天消费 ≥ 1000 且 订单数 ≥ 2"); the editor shows it whole.
 * `t` is the computed-tags namespace's; predicate words come from the segment editor's texts.
 */
export function describeRule(rule: Rule, t: TFunction, tagName: (id: string) => string, nested = false): string {
  const [kind] = Object.keys(rule);
  const v = rule[kind] as Json;
  switch (kind) {
    case 'all':
    case 'any': {
      const parts = (rule[kind] as Rule[]).map((r) => describeRule(r, t, tagName, true));
      const joined = parts.join(t(kind === 'all' ? 'summary.and' : 'summary.or'));
      return nested && parts.length > 1 ? `（${joined}）` : joined;
    }
    case 'not':
      return t('summary.not', { rule: describeRule(rule.not as Rule, t, tagName) });
    case 'tag':
      return t('summary.tag', { tag: tagName(rule.tag as string) });
    case 'tags': {
      const all = 'all' in v;
      return t(all ? 'summary.tagsAll' : 'summary.tagsAny', { tags: ((all ? v.all : v.any) as string[]).map(tagName).join('、') });
    }
    case 'tagWeight':
      return t('summary.tagWeight', { tag: tagName(v.tag as string), n: v.gte });
    case 'attribute':
      return v.op === 'exists'
        ? t('summary.attributeExists', { key: v.key })
        : t('summary.attribute', { key: v.key, op: SYMBOLS[v.op as string] ?? t(`segments:ops.${v.op as string}`), value: Array.isArray(v.value) ? v.value.join('、') : String(v.value) });
    case 'metric':
      return t('summary.metric', { name: t(`segments:fields.metric.${v.name as string}`), op: SYMBOLS[v.op as string], value: v.value });
    case 'daysSince':
      return t('summary.daysSince', { field: t(`segments:fields.time.${v.field as string}`), op: SYMBOLS[v.op as string], days: v.days });
    case 'owner':
      return t('summary.owner');
    case 'group':
      return t('summary.group');
    default:
      return t('summary.unknown');
  }
}
