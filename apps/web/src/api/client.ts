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
 * server sees: it is kept like a password sign-in's and taken out of the address (and the history) at once.
 */
function takeTokenFromFragment(): void {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const token = fragment.get('access_token');
  if (!token) return;
  tokenStore.set(token);
  window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
}
takeTokenFromFragment();

export interface ErrorDetail {
  path: string;
  problem: string;
}

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
