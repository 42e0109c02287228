/** One difference between two definitions: where (`steps[1].window.start`), before and after (undefined: absent). */
export interface Change {
  path: string;
  before: unknown;
  after: unknown;
}

function flatten(value: unknown, path: string, out: Map<string, unknown>): Map<string, unknown> {
  if (Array.isArray(value)) {
    if (!value.length) out.set(path, []);
    value.forEach((v, i) => flatten(v, `${path}[${i}]`, out));
  } else if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (!entries.length && path) out.set(path, {});
    for (const [k, v] of entries) flatten(v, path ? `${path}.${k}` : k, out);
  } else if (value !== undefined) {
    out.set(path, value);
  }
  return out;
}

/** What changed from `a` to `b`, field by field, in the order of `b` then what `b` dropped. */
export function diffDefinitions(a: unknown, b: unknown): Change[] {
  const before = flatten(a, '', new Map());
  const after = flatten(b, '', new Map());
  const changes: Change[] = [];
  for (const [path, value] of after) {
    if (!before.has(path)) changes.push({ path, before: undefined, after: value });
    else if (JSON.stringify(before.get(path)) !== JSON.stringify(value)) changes.push({ path, before: before.get(path), after: value });
  }
  for (const [path, value] of before) if (!after.has(path)) changes.push({ path, before: value, after: undefined });
  return changes;
}
