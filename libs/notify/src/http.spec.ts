import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postJson } from './http';
import { DeliveryFailure } from './types';

/** Issue 15: webhook and robot targets are resolved once, checked, and connected to at the address checked. */
describe('postJson with publicOnly (DNS pinning)', () => {
  let server: Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((req, res) => { hits++; req.resume(); req.on('end', () => res.end('{"errcode":0}')); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((r) => server.close(r)));
  afterEach(() => jest.restoreAllMocks());

  /** A DNS server under the attacker's control: the answers it gives, in turn. */
  function dnsAnswers(...answers: string[]) {
    let call = 0;
    // the module object itself (an ES namespace import cannot be spied on): http.ts reads its lookup at call time
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const dns: typeof import('node:dns') = require('node:dns');
    return jest.spyOn(dns, 'lookup').mockImplementation(((_host: string, _opts: unknown, cb: (e: null, a: LookupAddress[]) => void) => {
      const address = answers[Math.min(call++, answers.length - 1)];
      cb(null, [{ address, family: 4 }]);
    }) as never);
  }

  it('refuses a public name that resolves to an internal address, permanently, without connecting', async () => {
    dnsAnswers('127.0.0.1');
    const before = hits;
    const err = await postJson(`http://robots.rebind.example:${port}/hook`, {}, { timeoutMs: 2000, publicOnly: { allowHosts: [] } }).catch((e) => e);
    expect(err).toBeInstanceOf(DeliveryFailure);
    expect(err).toMatchObject({ permanent: true, message: expect.stringContaining('internal address 127.0.0.1') });
    expect(hits).toBe(before);
  });

  it('resolves once and connects to the address it checked (a second answer cannot rebind it)', async () => {
    // first answer: the address checked; any later answer would point elsewhere (a closed port's host)
    const lookup = dnsAnswers('127.0.0.1', '10.255.255.1');
    const before = hits;
    await postJson(`http://robots.rebind.example:${port}/hook`, { a: 1 }, { timeoutMs: 2000, publicOnly: { allowHosts: ['robots.rebind.example'] } });
    expect(hits).toBe(before + 1); // reached 127.0.0.1: the name itself resolves nowhere, so the socket used our lookup's answer
    expect(lookup).toHaveBeenCalledTimes(1);
  });

  it('refuses an internal address literal', async () => {
    const err = await postJson(`http://[::1]:${port}/hook`, {}, { timeoutMs: 2000, publicOnly: { allowHosts: [] } }).catch((e) => e);
    expect(err).toMatchObject({ permanent: true, message: expect.stringContaining('internal address') });
  });
});
