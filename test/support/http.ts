import { randomUUID } from 'node:crypto';
import { auditAnswer } from './openapi';

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A tiny HTTP client over fetch, speaking JSON, that never throws on an error status. */
export class Http {
  constructor(
    readonly baseUrl: string,
    readonly headers: Record<string, string> = {},
  ) {}

  as(token: string): Http {
    return new Http(this.baseUrl, { authorization: `Bearer ${token}` });
  }

  withApiKey(key: string): Http {
    return new Http(this.baseUrl, { 'x-api-key': key });
  }

  async request<T = any>(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<Reply<T>> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...this.headers, ...extra },
      body: body === undefined ? undefined : typeof body === 'string' ? body : Buffer.isBuffer(body) ? new Uint8Array(body) : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    await auditAnswer(this.baseUrl, method, `${this.baseUrl}${path}`, res, parsed);
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get = <T = any>(path: string) => this.request<T>('GET', path);
  post = <T = any>(path: string, body?: unknown) => this.request<T>('POST', path, body ?? {});
  patch = <T = any>(path: string, body: unknown) => this.request<T>('PATCH', path, body);
  put = <T = any>(path: string, body: unknown) => this.request<T>('PUT', path, body);
  delete = <T = any>(path: string) => this.request<T>('DELETE', path);
}

export interface TenantFixture {
  organization: string;
  email: string;
  password: string;
  admin: Http;
  adminToken: string;
}

/** A fresh tenant with its admin, through the public signup endpoint: every test gets its own. */
export async function signupTenant(http: Http, label = 'Test org'): Promise<TenantFixture> {
  const email = `admin-${randomUUID()}@test.example`;
  const password = `pw-${randomUUID()}`;
  const organization = `${label} ${randomUUID().slice(0, 8)}`;
  const res = await http.post('/api/auth/signup', { organization, name: 'Test Admin', email, password });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { organization, email, password, admin: http.as(res.body.accessToken), adminToken: res.body.accessToken };
}

/** Adds a user with the given role to the tenant and returns an HTTP client logged in as them. */
export async function addUser(
  t: TenantFixture, http: Http, role: string, extra: Record<string, unknown> = {},
): Promise<{ id: string; email: string; client: Http }> {
  const email = `${role}-${randomUUID()}@test.example`;
  const password = `pw-${randomUUID()}`;
  const created = await t.admin.post('/api/users', { email, name: `Test ${role}`, role, password, ...extra });
  if (created.status !== 201) throw new Error(`create user failed: ${created.status} ${JSON.stringify(created.body)}`);
  const login = await http.post('/api/auth/login', { email, password });
  return { id: created.body.id, email, client: http.as(login.body.accessToken) };
}

/**
 * fetch options for opening a tracked link as a customer's phone does: the redirect itself, and a browser's
 * user agent (Node's own, "node", is counted as a script and the open is not recorded).
 */
export const AS_CUSTOMER: RequestInit = {
  redirect: 'manual',
  headers: { 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40 NetType/WIFI Language/zh_CN' },
};
