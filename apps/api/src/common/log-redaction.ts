/**
 * Access-log request serializer: a stream ticket rides in the URL (EventSource cannot send headers), and a
 * logged ticket opens that person's notification stream for its minute. Logs keep the path, not the ticket.
 */
export function redactTicket<T extends { url?: unknown; query?: unknown }>(req: T): T {
  try {
    if (typeof req.url === 'string' && req.url.includes('ticket=')) req.url = req.url.replace(/([?&]ticket=)[^&#]*/g, '$1[Redacted]');
    const query = req.query as Record<string, unknown> | undefined;
    if (query && typeof query === 'object' && 'ticket' in query) req.query = { ...query, ticket: '[Redacted]' };
  } catch {
    // never let logging break a request
  }
  return req;
}
