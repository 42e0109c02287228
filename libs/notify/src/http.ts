import { isInternalHost } from '@sop/domain';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { DeliveryFailure } from './types';

/** Statuses worth another try: the receiver may take it later. */
const TRANSIENT_STATUS = new Set([408, 425, 429]);

export interface HttpOptions {
  timeoutMs: number;
  /**
   * When given, the request may only reach public addresses (SSRF): the host is resolved once, every
   * address it gives is checked, and the connection goes to the address checked (no second lookup, so
   * DNS rebinding between check and connect cannot happen). These hosts may be internal (local test servers).
   */
  publicOnly?: { allowHosts: readonly string[] };
}

const internalAddress = (address: string) => isInternalHost(address.includes(':') ? `[${address}]` : address);

/** A `lookup` for http(s).request that refuses internal addresses and hands the socket the very address it checked. */
export function pinnedLookup(allowHosts: readonly string[]): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0, hints: options.hints }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const bad = allowHosts.includes(hostname) ? undefined : addresses.find((a) => internalAddress(a.address));
      if (bad) {
        const refused = Object.assign(new Error(`${hostname} resolves to the internal address ${bad.address}; refusing to connect`), { code: 'EINTERNAL' });
        return callback(refused, '', 0);
      }
      const [first] = addresses;
      // net asks for every address when it may race IPv4 and IPv6 (autoSelectFamily); it gets the one checked
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, [first]);
      callback(null, first.address, first.family);
    });
  };
}

/** POSTs JSON; network errors, timeouts, 5xx and 429 are transient, other non-2xx permanent. Returns the parsed reply. */
export async function postJson(url: string, body: unknown, http: HttpOptions, headers: Record<string, string> = {}): Promise<unknown> {
  const raw = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (http.publicOnly && !http.publicOnly.allowHosts.includes(target.hostname) && (isIP(host) ? internalAddress(host) : isInternalHost(target.hostname))) {
    throw new DeliveryFailure(`the target's host ${target.hostname} is an internal address; refusing to send`, true);
  }
  let status: number;
  let text: string;
  try {
    ({ status, text } = await send(target, raw, http, headers));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EINTERNAL') throw new DeliveryFailure(`the target's host ${e.message}`, true);
    throw new DeliveryFailure(`request to ${safeHost(url)} failed: ${e.message}`, false);
  }
  if (status < 200 || status >= 300) {
    if (status >= 300 && status < 400) throw new DeliveryFailure(`${safeHost(url)} answered a redirect (${status}); redirects are not followed`, false);
    const permanent = status < 500 && !TRANSIENT_STATUS.has(status);
    throw new DeliveryFailure(`${safeHost(url)} answered ${status}: ${text.slice(0, 200)}`, permanent);
  }
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return { text };
  }
}

/** One request with Node's http(s) (fetch takes no `lookup`); the answer is read up to 64 KB. */
function send(target: URL, raw: Buffer, http: HttpOptions, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': String(raw.length), ...headers },
      timeout: http.timeoutMs,
      ...(http.publicOnly ? { lookup: pinnedLookup(http.publicOnly.allowHosts) } : {}),
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => { if ((size += c.length) <= 65_536) chunks.push(c); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${http.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(raw);
  });
}

/** The host only: robot URLs carry their key in the query, which must not reach logs or error columns. */
export function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'an invalid URL';
  }
}

/** An image read from its address: its first bytes up to the limit, whether it is larger, and its type by its bytes. */
export interface FetchedImage {
  bytes: Buffer;
  /** more than the limit was offered: `bytes` holds only the limit's worth */
  tooLarge: boolean;
  /** from the file's first bytes (what WeCom checks), not the server's content-type */
  type: 'jpg' | 'png' | 'gif' | 'webp' | 'other';
}

/** The type of an image by its magic bytes. */
export function sniffImageType(bytes: Buffer): FetchedImage['type'] {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpg';
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (bytes.subarray(0, 4).toString('latin1') === 'GIF8') return 'gif';
  if (bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return 'webp';
  return 'other';
}

/**
 * GETs an image (a material's URL) reading at most `maxBytes` (one more says it is larger, and the rest is not
 * read). `publicOnly` as for postJson: the address is resolved and pinned, internal ones refused. No redirect is
 * followed (each would need the same checks). Throws an Error saying why when there is no image to read.
 */
export function fetchImage(url: string, options: { timeoutMs: number; maxBytes: number; publicOnly?: { allowHosts: readonly string[] } }): Promise<FetchedImage> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const { publicOnly } = options;
  if (publicOnly && !publicOnly.allowHosts.includes(target.hostname) && (isIP(host) ? internalAddress(host) : isInternalHost(target.hostname))) {
    return Promise.reject(new Error(`${target.hostname} is an internal address; refusing to fetch`));
  }
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(target, {
      method: 'GET', timeout: options.timeoutMs, headers: { accept: 'image/*' },
      ...(publicOnly ? { lookup: pinnedLookup(publicOnly.allowHosts) } : {}),
    }, (res) => {
      if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) {
        res.resume();
        return reject(new Error(`${safeHost(url)} answered ${res.statusCode}${res.statusCode && res.statusCode < 400 ? ' (redirects are not followed)' : ''}`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (tooLarge: boolean) => {
        const bytes = Buffer.concat(chunks).subarray(0, options.maxBytes);
        resolve({ bytes, tooLarge, type: sniffImageType(bytes) });
      };
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        if ((size += c.length) > options.maxBytes) {
          res.destroy();
          done(true);
        }
      });
      res.on('end', () => done(false));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EINTERNAL' ? err : new Error(`${safeHost(url)} could not be reached: ${err.message}`)));
    req.end();
  });
}
