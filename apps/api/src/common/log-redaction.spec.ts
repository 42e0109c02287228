import { redactTicket } from './log-redaction';

describe('access-log redaction', () => {
  it('keeps the path and drops the stream ticket from the URL and the query', () => {
    expect(redactTicket({ url: '/api/notifications/stream?ticket=eyJ.abc.def', query: { ticket: 'eyJ.abc.def' } }))
      .toEqual({ url: '/api/notifications/stream?ticket=[Redacted]', query: { ticket: '[Redacted]' } });
    expect(redactTicket({ url: '/api/x?a=1&ticket=t&b=2' }).url).toBe('/api/x?a=1&ticket=[Redacted]&b=2');
    expect(redactTicket({ url: '/api/inbox?list=today' })).toEqual({ url: '/api/inbox?list=today' });
  });
});
