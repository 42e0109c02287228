import { jsonDepthExceeds, jsonTextProblems, MAX_JSON_DEPTH } from '@sop/domain';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parse as parseForm } from 'node:querystring';
import { PassThrough, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { COMMON_ERRORS, fail } from './errors.catalog';
import { bodyKindOf } from './http';

/**
 * The one place request bodies and query strings are read and held to what Postgres and our code can take,
 * before any DTO, pipe or service sees them (docs/security.md):
 * - a body is read as its route takes it (`BodyAs`, common/http.ts); JSON everywhere else, a body of another
 *   type is left unread, as if none were sent;
 * - gzip, deflate and br bodies are inflated first; bytes that are not what they say answer MALFORMED_BODY;
 * - JSON nesting deeper than MAX_JSON_DEPTH is refused from the raw bytes, before JSON.parse;
 * - a NUL character or a lone surrogate in any string or key, and the keys `__proto__`, `constructor`
 *   and `prototype`, are refused with the JSON path of each.
 */
export function registerBodyParsers(server: FastifyInstance): void {
  server.removeAllContentTypeParsers();
  server.addHook('preParsing', async (req, _reply, payload) => inflated(req, payload));
  server.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    try {
      done(null, readBody(req, body as Buffer, parseJson));
    } catch (err) {
      done(err as Error);
    }
  });
  server.addContentTypeParser('text/csv', (req, payload, done) => {
    if (bodyKindOf(req) === 'stream') return done(null, payload);
    payload.resume(); // read and dropped, as any body the route does not take
    payload.once('end', () => done(null, undefined));
    payload.once('error', done);
  });
  server.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
    try {
      done(null, readBody(req, body as Buffer, () => undefined));
    } catch (err) {
      done(err as Error);
    }
  });
  server.addHook('preValidation', async (req) => refuseBadText(req));
}

const TEXT_LIMIT = 64 * 1024;
const FORM_LIMIT = 16 * 1024;

/** The body as its route takes it; `otherwise` for a route that takes JSON. */
function readBody(req: FastifyRequest, body: Buffer, otherwise: (body: Buffer, req: FastifyRequest) => unknown): unknown {
  switch (bodyKindOf(req)) {
    case 'raw':
      return body;
    case 'text':
      if (body.length > TEXT_LIMIT) throw fail(COMMON_ERRORS.PAYLOAD_TOO_LARGE, 'The request body is larger than 64 KB.');
      return body.toString('utf8');
    case 'form':
      if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) return undefined;
      if (body.length > FORM_LIMIT) throw fail(COMMON_ERRORS.PAYLOAD_TOO_LARGE, 'The request body is larger than 16 KB.');
      return { ...parseForm(body.toString('utf8')) };
    default:
      return otherwise(body, req);
  }
}

/** JSON as Express's strict parser took it: an object or an array at the top, UTF-8 only. */
function parseJson(body: Buffer, req: FastifyRequest): unknown {
  const charset = /charset=([^;]+)/i.exec(String(req.headers['content-type']))?.[1]?.trim().replace(/"/g, '').toLowerCase();
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    throw fail(COMMON_ERRORS.UNSUPPORTED_ENCODING, `The request body charset is not supported: ${charset} (send UTF-8).`);
  }
  const text = body.toString('utf8');
  if (!text.trim()) return undefined;
  if (jsonDepthExceeds(body)) {
    const problem = `nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`;
    throw fail(COMMON_ERRORS.VALIDATION_FAILED, `The request body ${problem}`, [{ path: '', problem }], 400);
  }
  if (!/^\s*[{[]/.test(text)) throw fail(COMMON_ERRORS.MALFORMED_JSON, 'The request body is not valid JSON: it must be an object or an array.');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw fail(COMMON_ERRORS.MALFORMED_JSON, `The request body is not valid JSON: ${(err as Error).message}`);
  }
}

const INFLATERS: Record<string, () => NodeJS.ReadWriteStream> = { gzip: createGunzip, 'x-gzip': createGunzip, deflate: createInflate, br: createBrotliDecompress };

/**
 * The body inflated as its Content-Encoding says. Fastify holds the inflated bytes to the body limit and the
 * bytes received (`receivedEncodedLength`) to the Content-Length.
 */
function inflated(req: FastifyRequest, payload: Readable): Readable {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity') return payload;
  const inflater = INFLATERS[encoding];
  if (!inflater) throw fail(COMMON_ERRORS.UNSUPPORTED_ENCODING, `The request body encoding is not supported: ${encoding}.`);
  const out = Object.assign(new PassThrough(), { receivedEncodedLength: 0 });
  const inflate = inflater();
  payload.on('data', (chunk: Buffer) => void (out.receivedEncodedLength += chunk.length));
  payload.once('error', (err) => out.destroy(err));
  // bytes that are not what the header says: the caller's mistake, named as such (not zlib's 500)
  inflate.once('error', (err) => out.destroy(fail(COMMON_ERRORS.MALFORMED_BODY, `${COMMON_ERRORS.MALFORMED_BODY.message} (${err.message})`)));
  payload.pipe(inflate).pipe(out);
  return out;
}

/** Text Postgres cannot store and reserved keys, in the body or the query string: 400 with their paths. */
function refuseBadText(req: FastifyRequest): void {
  const body = req.body as unknown;
  const problems = [
    ...(body && typeof body === 'object' && !Buffer.isBuffer(body) && typeof (body as Readable).pipe !== 'function' ? jsonTextProblems(body) : []),
    ...jsonTextProblems(req.query),
  ];
  if (!problems.length) return;
  throw fail(COMMON_ERRORS.VALIDATION_FAILED, problems.map((d) => (d.path ? `${d.path}: ${d.problem}` : d.problem)).join('; '), problems, 400);
}
