import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];

/** Where the access token lives between page loads (one origin serves the app and the API). */
const TOKEN_KEY = 'sop.accessToken';

export const tokenStore = {
  get: (): string | null => localStorage.getItem(TOKEN_KEY),
  set: (token: string) => localStorage.setItem(TOKEN_KEY, token),
  clear: () => localStorage.removeItem(TOKEN_KEY),
};

/**
 * A sign-in through WeCom (a reminder card inside WeCom) lands with the access token in the URL fragment, which no
 * server sees: it is taken out of the address (and the history) at once, and kept like a password sign-in's only
 * when the sign-in's cookie holds its SHA-256. A link carrying someone else's token has no such cookie: taking it
 * would sign the reader in to the sender's organization.
 */
const HANDOFF_COOKIE = 'sop_wecom_handoff';

export async function takeTokenFromFragment(): Promise<void> {
  const token = new URLSearchParams(window.location.hash.slice(1)).get('access_token');
  if (!token) return;
  window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
  const cookie = document.cookie.split('; ').find((c) => c.startsWith(`${HANDOFF_COOKIE}=`))?.slice(HANDOFF_COOKIE.length + 1);
  document.cookie = `${HANDOFF_COOKIE}=; path=/; max-age=0`;
  if (!cookie || !crypto.subtle) return;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  if (hex === cookie) tokenStore.set(token);
}

/** One problem of a refusal: its path and English problem; for TAG_IN_USE also what uses the tag (kind and name). */
export type ErrorDetail = Schemas['ErrorDetailDto'];

/** An answer the API refused: its stable code, readable message and per-field details. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let onSignedOut: () => void = () => undefined;
/** Called when the API says the token is no longer good (expired, user disabled). */
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

/** The typed client: every path, parameter and answer comes from the API's own OpenAPI document. */
export const api = createClient<paths>({ baseUrl: '' });
api.use({
  onRequest({ request }) {
    const token = tokenStore.get();
    if (token && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${token}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401 && tokenStore.get()) {
      tokenStore.clear();
      onSignedOut();
    }
    return response;
  },
});

type Answer<T> = { data?: T; error?: unknown; response: Response };

/** Unwraps an openapi-fetch answer: its data, or an ApiError carrying the API's code and details. */
export async function call<T>(pending: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await pending;
  } catch (e) {
    throw new ApiError(0, 'NETWORK', e instanceof Error ? e.message : String(e));
  }
  const { data, error, response } = answer;
  if (response.ok) return data as T;
  const body = (error ?? {}) as { code?: string; message?: string; details?: ErrorDetail[]; requestId?: string };
  throw new ApiError(response.status, body.code ?? `HTTP_${response.status}`, body.message ?? response.statusText, body.details ?? [], body.requestId);
}
