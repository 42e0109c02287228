import { requestToken, TokenCache, WecomApiError, WecomClient, wecomClients } from '@sop/wecom';
import { newCorp, WecomServer } from '../support/wecom-server';

/** The WeCom client against the local stand-in: shared tokens, renewal on expiry, backoff on rate limits. */
describe('WeCom client (local WeCom server)', () => {
  let wecom: WecomServer;
  const fast = { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 };

  beforeAll(async () => {
    wecom = await WecomServer.start();
    wecom.route('/cgi-bin/echo', ({ corp, query }) => ({ errcode: 0, errmsg: 'ok', corpId: corp.corpId, n: Number(query.get('n')) }));
    wecom.route('/cgi-bin/forbidden', () => ({ errcode: 60011, errmsg: 'no privilege to access/modify contact/party/agent' }));
  });
  afterAll(() => wecom.close());
  beforeEach(() => wecom.reset());

  const clientFor = (corp = wecom.add(newCorp())) => ({ corp, client: wecomClients(wecom.baseUrl, fast)({ corpId: corp.corpId, secret: corp.contactSecret }) });

  it('shares one token among concurrent first calls', async () => {
    const { corp, client } = clientFor();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => client.get<{ errcode: number; corpId: string; n: number }>('/cgi-bin/echo', { n: String(n) })));
    expect(answers.map((a) => a.n)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(answers.every((a) => a.corpId === corp.corpId)).toBe(true);
    expect(wecom.calls.get('/cgi-bin/gettoken')).toBe(1);
  });

  it('renews an expired token once for all the calls that saw it fail, and repeats them', async () => {
    const { client } = clientFor();
    await client.get('/cgi-bin/echo', { n: '0' });
    wecom.expireTokens();
    const answers = await Promise.all(Array.from({ length: 10 }, (_, n) => client.get<{ errcode: number; n: number }>('/cgi-bin/echo', { n: String(n) })));
    expect(answers.map((a) => a.errcode)).toEqual(Array(10).fill(0));
    expect(wecom.calls.get('/cgi-bin/gettoken')).toBe(2);
  });

  it('waits and repeats on rate-limit answers, and gives up with a retryable error after its attempts', async () => {
    const { client } = clientFor();
    wecom.failNext('/cgi-bin/echo', 45009, 2);
    await expect(client.get('/cgi-bin/echo', { n: '7' })).resolves.toMatchObject({ errcode: 0, n: 7 });
    expect(wecom.calls.get('/cgi-bin/echo')).toBe(3);

    wecom.failNext('/cgi-bin/echo', 45033, 10);
    const refusal = await client.get('/cgi-bin/echo').catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(WecomApiError);
    expect(refusal).toMatchObject({ errcode: 45033, retryable: true, path: '/cgi-bin/echo' });
    expect(wecom.calls.get('/cgi-bin/echo')).toBe(3 + fast.attempts);
  });

  it('throws other refusals at once, naming the errcode', async () => {
    const { client } = clientFor();
    await expect(client.get('/cgi-bin/forbidden')).rejects.toMatchObject({ errcode: 60011, retryable: false });
    expect(wecom.calls.get('/cgi-bin/forbidden')).toBe(1);
    await expect(requestToken(wecom.baseUrl, { corpId: 'wwnobody', secret: 'x' })).rejects.toMatchObject({ errcode: 40013 });
  });

  it('renews a token shortly before WeCom says it expires', async () => {
    const corp = wecom.add(newCorp());
    let now = Date.now();
    const tokens = new TokenCache((creds) => requestToken(wecom.baseUrl, creds), () => now);
    const client = new WecomClient(wecom.baseUrl, { corpId: corp.corpId, secret: corp.contactSecret }, tokens, fast);
    await client.get('/cgi-bin/echo');
    now += 7200_000 - 6 * 60_000;
    await client.get('/cgi-bin/echo');
    expect(wecom.calls.get('/cgi-bin/gettoken')).toBe(1);
    now += 2 * 60_000;
    await client.get('/cgi-bin/echo');
    expect(wecom.calls.get('/cgi-bin/gettoken')).toBe(2);
  });
});
