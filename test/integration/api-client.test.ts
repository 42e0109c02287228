import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/env';
import { Http } from '../support/http';
import { Stack } from '../support/stack';

/** The console's client is generated from the API's document: the committed types must be those of the running API. */
describe("the console's generated API types", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start();
  });
  afterAll(() => stack?.stop());

  it('match the running API\'s /docs-json', async () => {
    const doc = await new Http(stack.baseUrl).get('/docs-json');
    expect(doc.status).toBe(200);
    const file = join(mkdtempSync(join(tmpdir(), 'docs-json-')), 'docs.json');
    writeFileSync(file, JSON.stringify(doc.body));
    const check = spawnSync(process.execPath, [join(ROOT, 'tools/api-types.mjs'), '--check', file], { encoding: 'utf8' });
    expect(`${check.stdout}${check.stderr}`).toContain('match');
    expect(check.status).toBe(0);
  });

  it('serves the console for its own routes and 404s for missing files', async () => {
    const http = new Http(stack.baseUrl);
    for (const path of ['/', '/contacts/42', '/admin/users']) {
      const page = await http.request('GET', path, undefined, { accept: 'text/html' });
      expect(page.status).toBe(200);
      expect(String(page.body)).toContain('<div id="root">');
    }
    expect((await http.request('GET', '/assets/missing.js', undefined, { accept: '*/*' })).status).toBe(404);
    expect((await http.request('GET', '/assets/..%2f..%2fpackage.json', undefined, { accept: '*/*' })).status).toBe(404);

    // Assets: hashed names cached for a year, sent compressed from the files the build wrote.
    const html = String((await http.request('GET', '/', undefined, { accept: 'text/html' })).body);
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    for (const encoding of ['br', 'gzip']) {
      const res = await fetch(`${stack.baseUrl}${script}`, { headers: { 'accept-encoding': encoding } });
      // application/javascript from the file server's MIME table (Express said text/javascript): browsers run both
      expect([res.status, res.headers.get('content-encoding'), res.headers.get('content-type')]).toEqual([200, encoding, 'application/javascript; charset=utf-8']);
      expect(res.headers.get('cache-control')).toContain('immutable');
      expect((await res.text()).length).toBeGreaterThan(1000);
    }
    expect((await http.get('/api/no-such-route')).status).toBe(404);
  });
});
