import { type ErrorDetail, validationFailed } from '../errors';
import { UUID_PATTERN as UUID } from '../ids';
import {
  ATTRIBUTE_OPS, type AttributeCondition, type AttributeOp, COMPARISONS, MAX_CONTAINS_LENGTH, MAX_DEPTH, MAX_IDS, MAX_PREDICATES, MAX_SILENCE_DAYS,
  METRICS, NUMERIC_OPS, type Predicate, type Rule, RULE_KINDS, type RuleKind, SILENCE_OPS, TIME_FIELDS,
} from './rule';

/** Attribute keys people may use. Keys are bound as parameters anyway; this keeps them sane and readable. */
export const ATTRIBUTE_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

export interface RuleContext {
  /** The tenant's tags: lowercase id (as Postgres returns uuids) -> tag number. A missing id is an unknown tag. */
  tagNums: ReadonlyMap<string, number>;
  /** Name of the root in error paths; `rule` when left out. */
  root?: string;
}

export interface RuleCheck {
  /** The validated rule, with ids lowercased; present only when there are no errors. */
  rule?: Rule;
  errors: ErrorDetail[];
}

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isScalar = (v: unknown) => typeof v === 'string' || typeof v === 'boolean' || isFiniteNumber(v);
const isRuleKind = (k: string): k is RuleKind => (RULE_KINDS as readonly string[]).includes(k);

/**
 * Walks untrusted input once, depth first and in document order, recording every problem with its
 * JSON path. Each method returns the checked value, or undefined after recording why not.
 */
class Checker {
  readonly errors: ErrorDetail[] = [];
  private predicates = 0;

  constructor(private readonly tagNums: ReadonlyMap<string, number>) {}

  rule(node: unknown, path: string, depth: number): Rule | undefined {
    if (depth > MAX_DEPTH) return this.fail(path, `nesting deeper than ${MAX_DEPTH} levels`);
    if (!isObject(node)) return this.fail(path, 'must be an object');
    const kind = this.kindOf(node, path);
    if (!kind) return undefined;
    const at = `${path}.${kind}`;
    const value = node[kind];
    if (kind === 'all' || kind === 'any') return this.list(kind, value, at, depth);
    if (kind === 'not') {
      const child = this.rule(value, at, depth + 1);
      return child && { not: child };
    }
    if (++this.predicates === MAX_PREDICATES + 1) this.fail(path, `more than ${MAX_PREDICATES} predicates`);
    return this.predicate(kind, value, at);
  }

  /** The node's one kind. Stray keys are errors at their own paths; the kind is still checked. */
  private kindOf(node: Obj, path: string): RuleKind | undefined {
    const keys = Object.keys(node);
    const kinds = keys.filter(isRuleKind);
    if (kinds.length > 1) return this.fail(path, `must have only one kind, not ${kinds.join(' and ')}`);
    if (!keys.length) return this.fail(path, `must have one of ${RULE_KINDS.join(', ')}`);
    const stray = kinds.length ? 'is not allowed here' : `unknown rule kind; use one of ${RULE_KINDS.join(', ')}`;
    for (const k of keys) if (!isRuleKind(k)) this.fail(`${path}.${k}`, stray);
    return kinds[0];
  }

  private list(kind: 'all' | 'any', value: unknown, at: string, depth: number): Rule | undefined {
    if (!Array.isArray(value) || value.length === 0) return this.fail(at, 'must be a non-empty list of rules');
    const children = value.map((child, i) => this.rule(child, `${at}[${i}]`, depth + 1));
    return children.every(Boolean) ? ({ [kind]: children } as Rule) : undefined;
  }

  private predicate(kind: RuleKind, v: unknown, at: string): Predicate | undefined {
    switch (kind) {
      case 'tag': {
        const tag = this.tagId(v, at);
        return tag === undefined ? undefined : { tag };
      }
      case 'tags':
        return this.tags(v, at);
      case 'tagWeight': {
        const o = this.shape(v, at, ['tag', 'gte']);
        if (!o) return undefined;
        const tag = this.tagId(o.tag, `${at}.tag`);
        const gte = this.number(o.gte, `${at}.gte`);
        return tag && gte !== undefined ? { tagWeight: { tag, gte } } : undefined;
      }
      case 'attribute':
        return this.attribute(v, at);
      case 'metric': {
        const o = this.shape(v, at, ['name', 'op', 'value']);
        if (!o) return undefined;
        const name = this.oneOf(o.name, `${at}.name`, METRICS);
        const op = this.oneOf(o.op, `${at}.op`, COMPARISONS);
        const value = this.number(o.value, `${at}.value`);
        return name && op && value !== undefined ? { metric: { name, op, value } } : undefined;
      }
      case 'daysSince': {
        const o = this.shape(v, at, ['field', 'op', 'days']);
        if (!o) return undefined;
        const field = this.oneOf(o.field, `${at}.field`, TIME_FIELDS);
        const op = this.oneOf(o.op, `${at}.op`, SILENCE_OPS);
        const days = this.wholeDays(o.days, `${at}.days`);
        return field && op && days !== undefined ? { daysSince: { field, op, days } } : undefined;
      }
      case 'owner':
        return this.owner(v, at);
      case 'group': {
        const o = this.shape(v, at, ['any']);
        const any = o && this.ids(o.any, `${at}.any`, (id, p) => this.uuid(id, p));
        return any && { group: { any } };
      }
      default: // all / any / not are handled by rule()
        return this.fail(at, 'is not a predicate');
    }
  }

  private tags(v: unknown, at: string): Predicate | undefined {
    const o = this.shape(v, at, [], ['any', 'all']);
    if (!o) return undefined;
    const modes = Object.keys(o) as ('any' | 'all')[];
    if (modes.length !== 1) return this.fail(at, 'must have exactly one of any, all');
    const [mode] = modes;
    const ids = this.ids(o[mode], `${at}.${mode}`, (id, p) => this.tagId(id, p));
    return ids && { tags: mode === 'any' ? { any: ids } : { all: ids } };
  }

  private owner(v: unknown, at: string): Predicate | undefined {
    const o = this.shape(v, at, [], ['users', 'teams']);
    if (!o) return undefined;
    // An empty list is fine (a form may send `users: []`) as long as the other one names someone.
    const users = o.users === undefined ? [] : this.ids(o.users, `${at}.users`, (id, p) => this.uuid(id, p), 0);
    const teams = o.teams === undefined ? [] : this.ids(o.teams, `${at}.teams`, (id, p) => this.uuid(id, p), 0);
    if (!users || !teams) return undefined;
    if (!users.length && !teams.length) return this.fail(at, 'must list at least one user or team');
    return { owner: { ...(users.length ? { users } : {}), ...(teams.length ? { teams } : {}) } };
  }

  private attribute(v: unknown, at: string): Predicate | undefined {
    const o = this.shape(v, at, ['key', 'op'], ['value']);
    if (!o) return undefined;
    const key = typeof o.key === 'string' && ATTRIBUTE_KEY.test(o.key)
      ? o.key
      : this.fail(`${at}.key`, 'must be 1 to 64 letters, digits, _ . or -');
    const op = this.oneOf(o.op, `${at}.op`, ATTRIBUTE_OPS);
    const valueOk = op !== undefined && this.attributeValue(op, o.value, `${at}.value`);
    if (!key || !op || !valueOk) return undefined;
    const condition = (op === 'exists' ? { key, op } : { key, op, value: o.value }) as AttributeCondition;
    return { attribute: condition };
  }

  private attributeValue(op: AttributeOp, value: unknown, at: string): boolean {
    if (op === 'exists') return value === undefined || !!this.fail(at, 'must be left out for exists');
    if (value === undefined) return !!this.fail(at, 'is required');
    if ((NUMERIC_OPS as readonly string[]).includes(op)) return this.number(value, at) !== undefined;
    if (op === 'contains') {
      return (typeof value === 'string' && value !== '' && value.length <= MAX_CONTAINS_LENGTH) ||
        !!this.fail(at, `must be a non-empty string of at most ${MAX_CONTAINS_LENGTH} characters`);
    }
    if (op === 'in') return this.inList(value, at);
    return isScalar(value) || !!this.fail(at, 'must be a string, number or boolean');
  }

  private inList(value: unknown, at: string): boolean {
    if (!Array.isArray(value) || value.length === 0 || value.length > MAX_IDS) {
      return !!this.fail(at, `must be a list of 1 to ${MAX_IDS} strings or numbers`);
    }
    const ok = value.map((x, i) => typeof x === 'string' || isFiniteNumber(x) || !!this.fail(`${at}[${i}]`, 'must be a string or number'));
    return ok.every(Boolean);
  }

  /** An object with exactly the required keys and maybe the optional ones. */
  private shape(v: unknown, at: string, required: string[], optional: string[] = []): Obj | undefined {
    if (!isObject(v)) return this.fail(at, 'must be an object');
    let ok = true;
    for (const k of Object.keys(v)) if (!required.includes(k) && !optional.includes(k)) ok = !!this.fail(`${at}.${k}`, 'is not allowed here');
    for (const k of required) if (v[k] === undefined) ok = !!this.fail(`${at}.${k}`, 'is required');
    return ok ? v : undefined;
  }

  private ids(v: unknown, at: string, each: (id: unknown, path: string) => string | undefined, min = 1): string[] | undefined {
    if (!Array.isArray(v) || v.length < min || v.length > MAX_IDS) return this.fail(at, `must be a list of ${min} to ${MAX_IDS} ids`);
    const ids = v.map((id, i) => each(id, `${at}[${i}]`));
    return ids.every((id) => id !== undefined) ? (ids as string[]) : undefined;
  }

  /** Lowercased, so ids compare equal to the ones Postgres returns. */
  private uuid(v: unknown, at: string): string | undefined {
    return typeof v === 'string' && UUID.test(v) ? v.toLowerCase() : this.fail(at, 'must be a UUID');
  }

  private tagId(v: unknown, at: string): string | undefined {
    const id = this.uuid(v, at);
    if (id === undefined) return undefined;
    return this.tagNums.has(id) ? id : this.fail(at, 'unknown tag');
  }

  private number(v: unknown, at: string): number | undefined {
    return isFiniteNumber(v) ? v : this.fail(at, 'must be a number');
  }

  private wholeDays(v: unknown, at: string): number | undefined {
    const ok = Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_SILENCE_DAYS;
    return ok ? (v as number) : this.fail(at, `must be a whole number of days from 0 to ${MAX_SILENCE_DAYS}`);
  }

  private oneOf<T extends string>(v: unknown, at: string, allowed: readonly T[]): T | undefined {
    return allowed.includes(v as T) ? (v as T) : this.fail(at, `must be one of ${allowed.join(', ')}`);
  }

  private fail(path: string, problem: string): undefined {
    this.errors.push({ path, problem });
    return undefined;
  }
}

/**
 * Checks untrusted input against the rule grammar and the tenant's tags, collecting every problem
 * with its JSON path (e.g. `rule.all[2].attribute.op`). `rule` is set only when there are none.
 */
export function checkRule(input: unknown, ctx: RuleContext): RuleCheck {
  const checker = new Checker(ctx.tagNums);
  const rule = checker.rule(input, ctx.root ?? 'rule', 1);
  return checker.errors.length || !rule ? { errors: checker.errors } : { rule, errors: [] };
}

/** As checkRule, but returns the rule or throws VALIDATION_FAILED (400) listing every problem. */
export function validateRule(input: unknown, ctx: RuleContext): Rule {
  const { rule, errors } = checkRule(input, ctx);
  if (!rule) throw validationFailed(errors);
  return rule;
}
