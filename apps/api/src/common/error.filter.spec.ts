import type { ArgumentsHost } from '@nestjs/common';
import { ErrorFilter } from './error.filter';

/** What the filter answers, through a stand-in for Fastify's request and reply. */
function answer(exception: unknown): { status: number; headers: Record<string, string>; body: Record<string, unknown> } {
  const sent = { status: 0, headers: {} as Record<string, string>, body: {} as Record<string, unknown> };
  const reply = {
    raw: { headersSent: false },
    sent: false,
    header(name: string, value: string) { sent.headers[name] = value; return reply; },
    status(code: number) { sent.status = code; return reply; },
    type() { return reply; },
    send(body: Record<string, unknown>) { sent.body = body; return reply; },
  };
  const req = { id: 'req-1', url: '/api/inbox/tasks', method: 'GET' };
  const host = { switchToHttp: () => ({ getRequest: () => req, getResponse: () => reply }) } as unknown as ArgumentsHost;
  new ErrorFilter().catch(exception, host);
  return sent;
}

describe('ErrorFilter', () => {
  it('answers a pool with no free connection as 503 DATABASE_BUSY with Retry-After, not as a 500', () => {
    const busy = answer(new Error('timeout exceeded when trying to connect'));
    expect(busy).toEqual({ status: 503, headers: { 'Retry-After': '1' }, body: expect.objectContaining({ code: 'DATABASE_BUSY', requestId: 'req-1' }) });
    const other = answer(new Error('something else'));
    expect(other).toMatchObject({ status: 500, headers: {}, body: { code: 'INTERNAL' } });
  });
});
