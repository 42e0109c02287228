import { appendFileSync } from 'node:fs';

/**
 * The API's own OpenAPI document, and a check of real answers against it: the console's client is
 * generated from the document, so a field, status or error code the document leaves out is a bug.
 */
export type Schema = { [key: string]: any };
export interface OpenApiDoc {
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, Schema> };
}

const docs = new Map<string, Promise<OpenApiDoc>>();

export function openApiOf(baseUrl: string): Promise<OpenApiDoc> {
  let doc = docs.get(baseUrl);
  if (!doc) {
    doc = fetch(`${baseUrl}/docs-json`).then((r) => r.json() as Promise<OpenApiDoc>);
    docs.set(baseUrl, doc);
  }
  return doc;
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** Every operation of the document, with its method and path template. */
export function operations(doc: OpenApiDoc): { method: string; path: string; op: any }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    HTTP_METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] })));
}

/** The operation a request reaches; literal segments win over parameters, as in the router. */
export function operationFor(doc: OpenApiDoc, method: string, pathname: string): { path: string; op: any } | undefined {
  const matches = operations(doc).filter((o) => o.method === method.toLowerCase()
    && new RegExp(`^${o.path.replace(/[.]/g, '\\.').replace(/\{[^}/]+\}/g, '[^/]+')}$`).test(pathname));
  return matches.sort((a, b) => a.path.split('{').length - b.path.split('{').length)[0];
}

export function resolve(doc: OpenApiDoc, schema: Schema): Schema {
  return schema.$ref ? resolve(doc, doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')]) : schema;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What in `value` the schema does not allow (the OpenAPI 3.0 subset @nestjs/swagger writes); fields it does not name count. */
export function schemaProblems(doc: OpenApiDoc, raw: Schema, value: unknown, at = '$'): string[] {
  const schema = resolve(doc, raw);
  if (value === null) return schema.nullable ? [] : [`${at}: null, not nullable`];
  if (schema.allOf) return schema.allOf.flatMap((s: Schema) => schemaProblems(doc, s, value, at));
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (alternatives) {
    const each = alternatives.map((s: Schema) => schemaProblems(doc, s, value, at));
    return each.some((p: string[]) => !p.length) ? [] : [`${at}: matches none of its alternatives (${each.flat().join('; ')})`];
  }
  if (schema.enum && !schema.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`];
  const type = schema.type ?? (schema.properties ? 'object' : undefined);
  const wrong = (what: string) => [`${at}: ${JSON.stringify(value)?.slice(0, 80)} is not ${what}`];
  switch (type) {
    case 'string':
      if (typeof value !== 'string') return wrong('a string');
      if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) return wrong('a date-time');
      if (schema.format === 'uuid' && !UUID.test(value)) return wrong('a uuid');
      return [];
    case 'integer':
      return Number.isInteger(value) ? [] : wrong('an integer');
    case 'number':
      return typeof value === 'number' ? [] : wrong('a number');
    case 'boolean':
      return typeof value === 'boolean' ? [] : wrong('a boolean');
    case 'array':
      return Array.isArray(value) ? value.flatMap((v, i) => schemaProblems(doc, schema.items ?? {}, v, `${at}[${i}]`)) : wrong('an array');
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return wrong('an object');
      const props: Record<string, Schema> = schema.properties ?? {};
      const missing = (schema.required ?? []).filter((k: string) => !(k in value)).map((k: string) => `${at}.${k}: missing`);
      return [...missing, ...Object.entries(value).flatMap(([k, v]) => {
        if (props[k]) return schemaProblems(doc, props[k], v, `${at}.${k}`);
        if (schema.additionalProperties === true) return [];
        if (schema.additionalProperties) return schemaProblems(doc, schema.additionalProperties, v, `${at}.${k}`);
        return [`${at}.${k}: not in the document`];
      })];
    }
    default:
      return [];
  }
}

/** What in a real answer the document does not say: an unlisted status, media type, field or error code. */
export function answerProblems(doc: OpenApiDoc, method: string, url: string, status: number, contentType: string, body: unknown): string[] {
  const found = operationFor(doc, method, new URL(url).pathname);
  if (!found) return [];
  const response = found.op.responses?.[String(status)];
  const where = `${method.toUpperCase()} ${found.path} ${status}`;
  if (!response) return [`${where}: status not in the document (${JSON.stringify(body)?.slice(0, 200)})`];
  const media = contentType.split(';')[0].trim();
  if (!response.content) return body === undefined || body === '' ? [] : [`${where}: answered ${media}, the document says no content`];
  const documented = response.content[media];
  if (!documented) return [`${where}: answered ${media || 'no content'}, the document says ${Object.keys(response.content).join(', ')}`];
  if (media !== 'application/json') return [];
  const problems = schemaProblems(doc, documented.schema ?? {}, body).map((p) => `${where}: ${p}`);
  const codes: string[] | undefined = response['x-error-codes'];
  const code = (body as { code?: string } | undefined)?.code;
  if (status >= 400 && codes && !codes.includes(code!)) problems.push(`${where}: error code ${code} is not among ${codes.join(', ')}`);
  return problems;
}

/**
 * Every answer the tests' Http client receives is checked against the document: a difference fails the
 * request (the document is the console's contract). With OPENAPI_AUDIT=<file>, differences are appended
 * to that file instead, to survey a whole run.
 */
export async function auditAnswer(baseUrl: string, method: string, url: string, res: Response, body: unknown): Promise<void> {
  if (url.includes('/docs-json')) return;
  const problems = answerProblems(await openApiOf(baseUrl), method, url, res.status, res.headers.get('content-type') ?? '', body);
  if (!problems.length) return;
  const file = process.env.OPENAPI_AUDIT;
  if (!file) throw new Error(`The answer differs from the OpenAPI document (/docs-json):\n${problems.join('\n')}`);
  appendFileSync(file, problems.map((p) => `${p}  [${expect.getState().currentTestName}]\n`).join(''));
}
