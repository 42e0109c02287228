import { Liquid, type Template } from 'liquidjs';

/**
 * Step content is a Liquid template (liquidjs). Unknown filters are parse errors, and parse, render
 * and memory limits keep a hostile template from tying up a worker.
 */
const engine = new Liquid({
  strictFilters: true,
  ownPropertyOnly: true,
  parseLimit: 20_000,
  renderLimit: 1000, // ms per render: generous, so a busy machine does not fail an ordinary template
  memoryLimit: 1_000_000,
});

/** Variables a template may use; `contact.attributes.<key>` takes any attribute key. */
export const TEMPLATE_VARIABLES: Record<string, readonly string[]> = {
  contact: ['name', 'externalId', 'phone', 'email', 'timezone', 'attributes', 'orderCount', 'totalSpend', 'lastOrderAt'],
  owner: ['name', 'email'],
  group: ['name'],
  sop: ['name'],
  step: ['name'],
  executor: ['name'],
};

export interface TemplateScope {
  contact?: Record<string, unknown>;
  owner?: { name: string; email: string } | null;
  group?: { name: string } | null;
  sop: { name: string };
  step: { name: string };
  executor?: { name: string } | null;
}

/** Problems with a template, each a sentence; empty when it parses and uses only known variables. */
export function templateProblems(source: string): string[] {
  let segments: unknown[][];
  try {
    segments = engine.globalVariableSegmentsSync(engine.parse(source));
  } catch (err) {
    return [`is not a valid Liquid template: ${(err as Error).message.split('\n')[0]}`];
  }
  const problems = new Set<string>();
  for (const [root, field, key] of segments) {
    const fields = TEMPLATE_VARIABLES[String(root)];
    if (!fields) problems.add(`unknown variable "${root}"; use ${Object.keys(TEMPLATE_VARIABLES).join(', ')}`);
    else if (field !== undefined && !fields.includes(String(field))) problems.add(`unknown variable "${root}.${field}"; ${root} has ${fields.join(', ')}`);
    else if (root === 'contact' && field === 'attributes' && key === undefined) problems.add('use contact.attributes.<key>, not the whole object');
  }
  return [...problems];
}

/**
 * Parses once; render many times with different scopes. A template that fails while rendering (a limit
 * hit, a filter error on odd data) yields its source text rather than an error: the task still reaches
 * its executor, who can write the message by hand, and the page of work is not retried for ever.
 */
export function compileTemplate(source: string): (scope: TemplateScope) => string {
  const parsed: Template[] = engine.parse(source);
  return (scope) => {
    try {
      return engine.renderSync(parsed, scope) as string;
    } catch {
      return source;
    }
  };
}
