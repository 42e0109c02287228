import { type ErrorDetail, validationFailed } from '../errors';
import {
  ATTRIBUTE_OPS, type AttributeValue, COMPARISONS, MAX_DEPTH, MAX_IDS, MAX_PREDICATES, METRICS, type Predicate, type Rule,
  SILENCE_OPS, TIME_FIELDS,
} from './rule';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const ATTRIBUTE_KEY = /^[A-Za-z0-9_.-]{1,64}$/;
const KINDS = ['all', 'any', 'not', 'tag', 'tags', 'tagWeight', 'attribute', 'metric', 'daysSince', 'owner', 'group'] as const;

export interface RuleContext {
  /** The tenant's tags: id -> number. An id missing here is an unknown tag. */
  tagNums: ReadonlyMap<string, number>;
  /** Name of the root in error paths, e.g. `rule`. */
  root?: string;
}

type Obj = Record<string, unknown>;

class Checker {
  readonly errors: ErrorDetail[] = [];
  predicates = 0;

  constructor(private readonly ctx: RuleContext) {}

  fail(path: string, problem: string): undefined {
    this.errors.push({ path, problem });
    return undefined;
  }

  rule(node: unknown, path: string, depth: number): Rule | undefined {
    if (depth > MAX_DEPTH) return this.fail(path, `nesting deeper than ${MAX_DEPTH} levels`);
    if (!isObject(node)) return this.fail(path, 'must be an object');
    const keys = Object.keys(node);
    if (keys.length !== 1) return this.fail(path, `must have exactly one of ${KINDS.join(', ')}`);
    const [kind] = keys;
    const value = node[kind];
    const at = `${path}.${kind}`;
    switch (kind) {
      case 'all':
      case 'any': {
        if (!Array.isArray(value) || value.length === 0) return this.fail(at, 'must be a non-empty list of rules');
        const children = value.map((child, i) => this.rule(child, `${at}[${i}]`, depth + 1));
        return children.every(Boolean) ? ({ [kind]: children } as Rule) : undefined;
      }
      case 'not': {
        const child = this.rule(value, at, depth + 1);
        return child && { not: child };
      }
      default:
        if (++this.predicates === MAX_PREDICATES + 1) this.fail(path, `more than ${MAX_PREDICATES} predicates`);
        return this.predicate(kind, value, at);
    }
  }

  private predicate(kind: string, v: unknown, at: string): Predicate | undefined {
    switch (kind) {
      case 'tag':
        return this.tagId(v, at) ? { tag: v as string } : undefined;
      case 'tags': {
        const o = this.shape(v, at, [], ['any', 'all']);
        if (!o) return undefined;
        const mode = 'any' in o ? 'any' : 'all';
        if (Object.keys(o).length !== 1) return this.fail(at, 'must have exactly one of any, all');
        const ids = this.ids(o[mode], `${at}.${mode}`, (id, p) => this.tagId(id, p));
        return ids && ({ tags: { [mode]: ids } } as Predicate);
      }
      case 'tagWeight': {
        const o = this.shape(v, at, ['tag', 'gte']);
        if (!o) return undefined;
        const ok = [this.tagId(o.tag, `${at}.tag`), this.number(o.gte, `${at}.gte`)].every(Boolean);
        return ok ? { tagWeight: { tag: o.tag as string, gte: o.gte as number } } : undefined;
      }
      case 'attribute':
        return this.attribute(v, at);
      case 'metric': {
        const o = this.shape(v, at, ['name', 'op', 'value']);
        if (!o) return undefined;
        const ok = [this.oneOf(o.name, `${at}.name`, METRICS), this.oneOf(o.op, `${at}.op`, COMPARISONS), this.number(o.value, `${at}.value`)];
        return ok.every(Boolean) ? ({ metric: o } as Predicate) : undefined;
      }
      case 'daysSince': {
        const o = this.shape(v, at, ['field', 'op', 'days']);
        if (!o) return undefined;
        const days = Number.isInteger(o.days) && (o.days as number) >= 0 && (o.days as number) <= 3650;
        const ok = [this.oneOf(o.field, `${at}.field`, TIME_FIELDS), this.oneOf(o.op, `${at}.op`, SILENCE_OPS),
          days || this.fail(`${at}.days`, 'must be a whole number of days from 0 to 3650')];
        return ok.every(Boolean) ? ({ daysSince: o } as Predicate) : undefined;
      }
      case 'owner': {
        const o = this.shape(v, at, [], ['users', 'teams']);
        if (!o) return undefined;
        if (!o.users && !o.teams) return this.fail(at, 'must give users or teams');
        const users = o.users === undefined ? [] : this.ids(o.users, `${at}.users`, (id, p) => this.uuid(id, p));
        const teams = o.teams === undefined ? [] : this.ids(o.teams, `${at}.teams`, (id, p) => this.uuid(id, p));
        if (!users || !teams) return undefined;
        return { owner: { ...(o.users ? { users } : {}), ...(o.teams ? { teams } : {}) } };
      }
      case 'group': {
        const o = this.shape(v, at, ['any']);
        const ids = o && this.ids(o.any, `${at}.any`, (id, p) => this.uuid(id, p));
        return ids ? { group: { any: ids } } : undefined;
      }
      default:
        return this.fail(at, `unknown rule kind; use one of ${KINDS.join(', ')}`);
    }
  }

  private attribute(v: unknown, at: string): Predicate | undefined {
    const o = this.shape(v, at, ['key', 'op'], ['value']);
    if (!o) return undefined;
    const key = typeof o.key === 'string' && ATTRIBUTE_KEY.test(o.key) ? o.key : this.fail(`${at}.key`, `must match ${ATTRIBUTE_KEY}`);
    const op = this.oneOf(o.op, `${at}.op`, ATTRIBUTE_OPS);
    if (!key || !op) return undefined;
    const value = o.value;
    const valueAt = `${at}.value`;
    if (op === 'exists') return value === undefined ? { attribute: { key, op } } : this.fail(valueAt, 'must be left out for exists');
    if (['lt', 'lte', 'gt', 'gte'].includes(op) && !this.number(value, valueAt)) return undefined;
    if (op === 'contains' && (typeof value !== 'string' || !value)) return this.fail(valueAt, 'must be a non-empty string');
    if (op === 'in') {
      const list = Array.isArray(value) && value.length > 0 && value.length <= MAX_IDS && value.every(isScalarItem);
      if (!list) return this.fail(valueAt, `must be a list of 1 to ${MAX_IDS} strings or numbers`);
    }
    if ((op === 'eq' || op === 'ne') && !['string', 'number', 'boolean'].includes(typeof value)) {
      return this.fail(valueAt, 'must be a string, number or boolean');
    }
    return { attribute: { key, op, value: value as AttributeValue } };
  }

  /** An object with exactly the required keys and maybe the optional ones. */
  private shape(v: unknown, at: string, required: string[], optional: string[] = []): Obj | undefined {
    if (!isObject(v)) return this.fail(at, 'must be an object');
    let ok = true;
    for (const k of Object.keys(v)) if (![...required, ...optional].includes(k)) ok = !!this.fail(`${at}.${k}`, 'is not allowed here');
    for (const k of required) if (v[k] === undefined) ok = !!this.fail(`${at}.${k}`, 'is required');
    return ok ? v : undefined;
  }

  private ids(v: unknown, at: string, each: (id: unknown, path: string) => boolean): string[] | undefined {
    if (!Array.isArray(v) || v.length === 0 || v.length > MAX_IDS) return this.fail(at, `must be a list of 1 to ${MAX_IDS} ids`);
    const results = v.map((id, i) => each(id, `${at}[${i}]`));
    return results.every(Boolean) ? (v as string[]) : undefined;
  }

  private uuid(v: unknown, at: string): boolean {
    return (typeof v === 'string' && UUID.test(v)) || !!this.fail(at, 'must be a UUID');
  }

  private tagId(v: unknown, at: string): boolean {
    if (!this.uuid(v, at)) return false;
    return this.ctx.tagNums.has((v as string).toLowerCase()) || !!this.fail(at, 'unknown tag');
  }

  private number(v: unknown, at: string): boolean {
    return (typeof v === 'number' && Number.isFinite(v)) || !!this.fail(at, 'must be a number');
  }

  private oneOf<T extends string>(v: unknown, at: string, allowed: readonly T[]): T | undefined {
    return allowed.includes(v as T) ? (v as T) : this.fail(at, `must be one of ${allowed.join(', ')}`);
  }
}

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalarItem = (x: unknown) => typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x));

/**
 * Checks untrusted input and returns it as a Rule, or throws VALIDATION_FAILED listing every
 * problem with its JSON path (e.g. `rule.all[2].attribute.op`).
 */
export function validateRule(input: unknown, ctx: RuleContext): Rule {
  const checker = new Checker(ctx);
  const rule = checker.rule(input, ctx.root ?? 'rule', 1);
  if (checker.errors.length || !rule) throw validationFailed(checker.errors);
  return rule;
}
