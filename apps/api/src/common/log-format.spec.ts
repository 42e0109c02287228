import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import { logStream, quietBoot, requestForLog, requestLevel, requestLine, responseForLog } from './log-format';

const req = (method: string, url: string) => ({ method, url }) as IncomingMessage;
const res = (statusCode: number) => ({ statusCode }) as ServerResponse;

describe('request log lines', () => {
  it('say method, path, status and time, with stream tickets redacted', () => {
    expect(requestLine(req('GET', '/api/inbox/tasks?list=today'), res(200), 3.6)).toBe('GET /api/inbox/tasks?list=today 200 4ms');
    expect(requestLine(req('GET', '/api/notifications/stream?ticket=abc.def&x=1'), res(200))).toBe('GET /api/notifications/stream?ticket=[Redacted]&x=1 200');
  });

  it('keep no header but the user agent: no token, key, cookie or redirect reaches the log', () => {
    const incoming = {
      id: 'r1', method: 'GET', url: '/stream?ticket=abc', originalUrl: '/api/notifications/stream?ticket=abc', socket: { remoteAddress: '10.0.0.9' },
      headers: { authorization: 'Bearer eyJ.secret', 'x-api-key': 'sk_secret', cookie: 'sop_wecom_handoff=secret', 'user-agent': 'WeCom/4.1' },
    } as unknown as IncomingMessage;
    const logged = JSON.stringify(requestForLog(incoming));
    expect(JSON.parse(logged)).toEqual({ id: 'r1', method: 'GET', url: '/api/notifications/stream?ticket=[Redacted]', remoteAddress: '10.0.0.9', userAgent: 'WeCom/4.1' });
    expect(logged).not.toContain('secret');
    const answer = { statusCode: 302, getHeader: () => 'https://console.example/#access_token=secret' } as unknown as ServerResponse;
    expect(responseForLog(answer)).toEqual({ statusCode: 302 });
  });

  it('make refusals warnings and failures errors', () => {
    expect([200, 302, 404, 422, 500].map((s) => requestLevel(req('GET', '/'), res(s)))).toEqual(['info', 'info', 'warn', 'warn', 'error']);
    expect(requestLevel(req('GET', '/'), res(200), new Error('x'))).toBe('error');
  });

  it("print one short line in pretty mode, without Nest's start-up inventory", async () => {
    let out = '';
    const sink = new Writable({ write(chunk, _enc, done) { out += chunk; done(); } });
    const log = pino(quietBoot('pretty'), logStream('pretty', sink));
    log.info({ context: 'RouterExplorer' }, 'Mapped {/api/users, GET} route');
    log.warn({ req: { headers: { cookie: 'secret' } }, responseTime: 5 }, 'GET /api/nope 404 5ms');
    await new Promise((r) => setTimeout(r, 50));
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/WARN.*GET \/api\/nope 404 5ms/);
    expect(out).not.toContain('secret');
    expect(out).not.toContain('Mapped');
  });
});
