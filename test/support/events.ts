import { createHmac } from 'node:crypto';
import type { Http, Reply, TenantFixture } from './http';

export interface EventKey {
  id: string;
  key: string;
  signingSecret: string;
}

/** An API key for the events API (ops role unless told), with its signing secret. */
export async function eventKey(t: TenantFixture, role = 'ops'): Promise<EventKey> {
  const res = await t.admin.post('/api/api-keys', { name: `events ${role} ${Date.now()}`, role });
  if (res.status !== 201) throw new Error(`api key: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export const sign = (secret: string, timestamp: number | string, raw: string) =>
  `v1=${createHmac('sha256', secret).update(`${timestamp}.${raw}`).digest('hex')}`;

/** POST /api/events signed as docs/responses.md says; `headers` overrides or removes (undefined) any header. */
export function sendEvents(
  http: Http, key: EventKey, body: unknown, { timestamp = Math.floor(Date.now() / 1000), headers = {} }: { timestamp?: number; headers?: Record<string, string | undefined> } = {},
): Promise<Reply> {
  const raw = JSON.stringify(body);
  const all: Record<string, string | undefined> = {
    'x-api-key': key.key, 'x-sop-timestamp': String(timestamp), 'x-sop-signature': sign(key.signingSecret, timestamp, raw), ...headers,
  };
  const sent = Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
  return http.request('POST', '/api/events', raw, sent);
}
