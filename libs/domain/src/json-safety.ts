import type { ErrorDetail } from './errors';

/**
 * Limits every JSON body is held to before any code walks it (the API's body parser and the events
 * API's own parser use these; see docs/security.md).
 */

/** Deepest nesting of objects and arrays a body may have. The deepest legitimate body (a segment rule of
 * 8 levels inside an SOP definition) needs about 25. */
export const MAX_JSON_DEPTH = 64;

/** Keys refused anywhere in a body: they reach object prototypes (`Object.assign`, class-transformer). */
export const RESERVED_JSON_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

/**
 * Whether JSON text nests objects and arrays deeper than `max`, read byte by byte without parsing
 * (so a 100,000-level body costs one pass and no stack). Brackets inside strings do not count; UTF-8
 * continuation bytes never equal an ASCII bracket or quote, so bytes are as good as characters.
 */
export function jsonDepthExceeds(text: Uint8Array, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a string cannot be stored as text (Postgres text and jsonb hold neither U+0000 nor half a surrogate pair), or null. */
export function textProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'must not contain the NUL character (\\u0000)';
  if (LONE_SURROGATE.test(s)) return 'must be valid Unicode text (it holds a lone surrogate such as \\ud800)';
  return null;
}

const pathOf = (parent: string, key: string | number) =>
  typeof key === 'number' ? `${parent}[${key}]` : parent ? `${parent}.${key}` : key;

/**
 * Every string (value or key) Postgres cannot store, and every reserved key, with its JSON path
 * (`attributes.region`, `steps[0].name`); at most `limit` problems. Iterative: no stack to exhaust.
 */
export function jsonTextProblems(value: unknown, root = '', limit = 20): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length && problems.length < limit) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) problems.push({ path, problem });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], pathOf(path, i)]);
    } else if (v && typeof v === 'object') {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, child] = entries[i];
        const at = pathOf(path, k);
        const keyProblem = RESERVED_JSON_KEYS.includes(k) ? `the key "${k}" is reserved` : textProblem(k);
        if (keyProblem) problems.push({ path: at, problem: keyProblem.replace(/^must/, 'key must') });
        else stack.push([child, at]);
      }
    }
  }
  return problems;
}
