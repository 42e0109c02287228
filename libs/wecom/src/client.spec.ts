import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WecomUnreachable, wecomClients } from './client';

/**
 * The client's kept-alive connections against a real HTTP server that hangs up a connection when a second request
 * arrives on it, as a server does that closed an idle connection just as the client reused it.
 */
describe('WecomClient on kept-alive connections', () => {
  let server: Server;
  let base: string;
  const seen: { method: string; path: string; socket: number }[] = [];

  // A server per test: no connection is kept from one test to the next.
  beforeEach(async () => {
    seen.length = 0;
    const sockets = new Map<Socket, { id: number; requests: number }>();
    server = createServer((req, res) => {
      let socket = sockets.get(req.socket);
      if (!socket) sockets.set(req.socket, (socket = { id: sockets.size + 1, requests: 0 }));
      socket.requests++;
      const path = (req.url ?? '').split('?')[0];
      seen.push({ method: req.method ?? '', path, socket: socket.id });
      if (socket.requests > 1) {
        req.socket.destroy(); // hangs up with no answer
        return;
      }
      const answer = path === '/cgi-bin/gettoken' ? { errcode: 0, access_token: 'token', expires_in: 7200 } : { errcode: 0, errmsg: 'ok' };
      req.resume().on('end', () => res.end(JSON.stringify(answer)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });

  const client = () => wecomClients(base)({ corpId: `corp-${Math.random()}`, secret: 'secret' });

  it('sends a GET again on a new connection when the kept-alive one was hung up', async () => {
    await expect(client().get('/cgi-bin/user/get', { userid: 'li' })).resolves.toMatchObject({ errcode: 0 });
    // the token on a new connection, the GET on it again (hung up), the GET once more on a new one
    expect(seen).toEqual([
      { method: 'GET', path: '/cgi-bin/gettoken', socket: 1 },
      { method: 'GET', path: '/cgi-bin/user/get', socket: 1 },
      { method: 'GET', path: '/cgi-bin/user/get', socket: 2 },
    ]);
  });

  it('never sends a POST twice: the server may have acted on it before hanging up', async () => {
    await expect(client().post('/cgi-bin/externalcontact/add_msg_template', { text: { content: 'hi' } })).rejects.toBeInstanceOf(WecomUnreachable);
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual(['GET /cgi-bin/gettoken', 'POST /cgi-bin/externalcontact/add_msg_template']);
  });
});
