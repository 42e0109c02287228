import { DeliveryFailure } from './types';

/** Statuses worth another try: the receiver may take it later. */
const TRANSIENT_STATUS = new Set([408, 425, 429]);

/** POSTs JSON; network errors, timeouts, 5xx and 429 are transient, other non-2xx permanent. Returns the parsed reply. */
export async function postJson(url: string, body: unknown, timeoutMs: number, headers: Record<string, string> = {}): Promise<unknown> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
      body: raw,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (err) {
    throw new DeliveryFailure(`request to ${safeHost(url)} failed: ${(err as Error).message}`, false);
  }
  const text = await response.text().catch(() => '');
  if (!response.ok) {
    const permanent = response.status < 500 && !TRANSIENT_STATUS.has(response.status);
    throw new DeliveryFailure(`${safeHost(url)} answered ${response.status}: ${text.slice(0, 200)}`, permanent);
  }
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return { text };
  }
}

/** The host only: robot URLs carry their key in the query, which must not reach logs or error columns. */
export function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'an invalid URL';
  }
}
