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
  // no file system: liquidjs would otherwise read include/render/layout files from the working directory
  templates: {},
});
// Step content is one message: nothing to include, and a file name must never reach a reader (refused at parse).
for (const tag of ['include', 'render', 'layout']) {
  engine.registerTag(tag, {
    parse() {
      throw new Error(`the {% ${tag} %} tag is not available in step content`);
    },
    * render() {
      // never reached: parse refuses
    },
  });
}

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

/**
 * Renders once, throwing when the template cannot render (the designer's preview says why). Tasks use
 * compileTaskTemplate, which never throws.
 */
export function renderTemplate(source: string, scope: TemplateScope): string {
  return engine.parseAndRenderSync(source, scope) as string;
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

const OUTPUT = /\{\{\s*([^}]*?)\s*\}\}/g;
const PLAIN_OUTPUT = /^([A-Za-z_]\w*(?:\.[\w-]+)*)(?:\s*\|\s*default:\s*(?:"([^"]*)"|'([^']*)'))?$/;
type Piece = string | { path: string[]; fallback?: string };

/**
 * Most step templates are text with `{{ a.b }}` outputs, perhaps `| default: "…"`. Those render here
 * without Liquid's interpreter (materializing 100,000 tasks renders 100,000 times); anything else (tags,
 * other filters, whitespace control, a value that is not text or a number) goes to liquidjs. A test
 * holds the two to the same output.
 */
function plainPieces(source: string): Piece[] | null {
  if (source.includes('{%') || /\{\{-|-\}\}/.test(source)) return null;
  const pieces: Piece[] = [];
  let last = 0;
  for (const m of source.matchAll(OUTPUT)) {
    const expr = PLAIN_OUTPUT.exec(m[1]);
    if (!expr) return null;
    pieces.push(source.slice(last, m.index), { path: expr[1].split('.'), fallback: expr[2] ?? expr[3] });
    last = m.index! + m[0].length;
  }
  pieces.push(source.slice(last));
  return pieces.some((p) => typeof p === 'string' && p.includes('{{')) ? null : pieces;
}

function renderPlain(pieces: Piece[], scope: TemplateScope): string | undefined {
  let out = '';
  for (const piece of pieces) {
    if (typeof piece === 'string') {
      out += piece;
      continue;
    }
    let value: unknown = scope;
    for (const key of piece.path) value = value !== null && typeof value === 'object' && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
    if (value === undefined || value === null || value === false || value === '') out += piece.fallback ?? (value === false ? 'false' : '');
    else if (typeof value === 'string' || typeof value === 'number' || value === true) out += String(value);
    else return undefined; // dates, lists, objects: Liquid's own formatting
  }
  return out;
}

/**
 * Parses once; render many times with different scopes. A template that fails while rendering (a limit
 * hit, a filter error on odd data) yields its source text rather than an error: the task still reaches
 * its executor, who can write the message by hand, and the page of work is not retried for ever.
 */
export function compileTemplate(source: string, { interpreterOnly = false } = {}): (scope: TemplateScope) => string {
  const parsed: Template[] = engine.parse(source);
  const pieces = interpreterOnly ? null : plainPieces(source);
  const liquid = (scope: TemplateScope) => {
    try {
      return engine.renderSync(parsed, scope) as string;
    } catch {
      return source;
    }
  };
  return pieces ? (scope) => renderPlain(pieces, scope) ?? liquid(scope) : liquid;
}

/** A task's content, or why it could not be rendered (the task is then held, and has no content). */
export type TaskContent = { content: string; heldReason: null } | { content: ''; heldReason: string };

/** Why a template failed, in one line short enough to group tasks and notifications by. */
function failureReason(err: unknown): string {
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 200);
  return `the template could not be rendered: ${message}`;
}

/**
 * Parses once; render many times with different scopes. A template that fails (a parse error in a stored
 * definition, a limit hit, a filter error on odd data) yields no content and the reason: the engines hold such
 * a task rather than hand an employee the template's source.
 */
export function compileTaskTemplate(source: string): (scope: TemplateScope) => TaskContent {
  let parsed: Template[];
  try {
    parsed = engine.parse(source);
  } catch (err) {
    const heldReason = failureReason(err);
    return () => ({ content: '', heldReason });
  }
  const pieces = plainPieces(source);
  return (scope) => {
    const plain = pieces ? renderPlain(pieces, scope) : undefined;
    if (plain !== undefined) return { content: plain, heldReason: null };
    try {
      return { content: engine.renderSync(parsed, scope) as string, heldReason: null };
    } catch (err) {
      return { content: '', heldReason: failureReason(err) };
    }
  };
}
