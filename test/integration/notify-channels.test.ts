import { createNotifier, DeliveryFailure, notifyConfigFromEnv, verifyWebhookSignature, type Message, type Notifier } from '@sop/notify';
import { RobotServer } from '../support/robot-server';
import { SmtpSink } from '../support/smtp-sink';

/** The reminder channel adapters against a real SMTP server and local robot servers that check each platform's documented rules. */
describe('notify channels', () => {
  let sink: SmtpSink;
  let robots: RobotServer;
  let notifier: Notifier;

  const message = (over: Partial<Message> = {}): Message => ({
    id: 'delivery-1', kind: 'due_soon', locale: 'zh', title: '任务即将到期', body: '张三 · 产品B 跟进\n30 分钟后截止 <b>',
    url: 'https://app.example/inbox/tasks/42', ...over,
  });

  const failure = async (promise: Promise<unknown>): Promise<DeliveryFailure> => {
    const err = await promise.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryFailure);
    return err as DeliveryFailure;
  };

  beforeAll(async () => {
    sink = await SmtpSink.start();
    robots = await RobotServer.start();
    notifier = createNotifier({ ...notifyConfigFromEnv({ SMTP_URL: sink.url, MAIL_FROM: 'SOP 提醒 <reminders@shop.example>' }), timeoutMs: 5000 });
  });
  afterAll(async () => {
    await notifier?.close();
    await sink?.stop();
    await robots?.stop();
  });

  it('sends an email with the title, the body, the link, and the delivery id as Message-ID', async () => {
    await notifier.send({ channel: 'email', to: 'li.lei@shop.example', name: '李雷' }, message());
    const [got] = await sink.waitFor(1);
    expect(got.envelopeTo).toEqual(['li.lei@shop.example']);
    expect(got.mail.subject).toBe('任务即将到期');
    expect(got.mail.from?.value[0]).toMatchObject({ name: 'SOP 提醒', address: 'reminders@shop.example' });
    expect(got.mail.messageId).toBe('<delivery-1@shop.example>');
    expect(got.mail.headers.get('x-sop-delivery')).toBe('delivery-1');
    expect(got.mail.text).toContain('30 分钟后截止 <b>');
    expect(got.mail.text).toContain('打开: https://app.example/inbox/tasks/42');
    expect(got.mail.html).toContain('30 分钟后截止 &lt;b&gt;');
    expect(got.mail.html).toContain('href="https://app.example/inbox/tasks/42"');
  });

  it('carries many messages over the pool, each once', async () => {
    const before = sink.received.length;
    await Promise.all(Array.from({ length: 200 }, (_, i) => notifier.send({ channel: 'email', to: `e${i}@shop.example` }, message({ id: `bulk-${i}`, locale: 'en', title: 'Due soon' }))));
    const got = (await sink.waitFor(before + 200)).slice(before);
    expect(new Set(got.map((r) => r.mail.messageId)).size).toBe(200);
  });

  it('tells a temporary SMTP refusal from a permanent one', async () => {
    sink.failNext(1, 451);
    expect((await failure(notifier.send({ channel: 'email', to: 'a@shop.example' }, message({ id: 'try-1' })))).permanent).toBe(false);
    sink.failNext(1, 550);
    expect((await failure(notifier.send({ channel: 'email', to: 'a@shop.example' }, message({ id: 'try-2' })))).permanent).toBe(true);
    const before = sink.received.length;
    await notifier.send({ channel: 'email', to: 'a@shop.example' }, message({ id: 'try-3' }));
    expect((await sink.waitFor(before + 1)).at(-1)?.mail.messageId).toBe('<try-3@shop.example>');
  });

  it('refuses email for good when no SMTP server is configured', async () => {
    const bare = createNotifier(notifyConfigFromEnv({}));
    expect(bare.emailEnabled).toBe(false);
    expect((await failure(bare.send({ channel: 'email', to: 'a@shop.example' }, message()))).permanent).toBe(true);
    await bare.close();
  });

  it('posts markdown to a WeCom group robot; a bad key is permanent, a rate limit is not', async () => {
    await notifier.send({ channel: 'wecom', url: robots.urls.wecom }, message());
    const got = robots.accepted.filter((r) => r.robot === 'wecom').at(-1);
    expect(got?.body.markdown.content).toBe('**任务即将到期**\n\n张三 · 产品B 跟进\n30 分钟后截止 <b>\n\n[打开](https://app.example/inbox/tasks/42)');

    const bad = await failure(notifier.send({ channel: 'wecom', url: robots.urls.wecom.replace('wecom-key-1', 'stolen') }, message()));
    expect(bad.permanent).toBe(true);
    expect(bad.message).toContain('93000');
    expect(bad.message).not.toContain('stolen');
    robots.wecomRateLimited = 1;
    expect((await failure(notifier.send({ channel: 'wecom', url: robots.urls.wecom }, message()))).permanent).toBe(false);
  });

  it('signs DingTalk robot calls the way DingTalk checks them', async () => {
    await notifier.send({ channel: 'dingtalk', url: robots.urls.dingtalk, secret: robots.secrets.dingtalk }, message({ locale: 'en', title: 'Due soon' }));
    const got = robots.accepted.filter((r) => r.robot === 'dingtalk').at(-1);
    expect(got?.query.get('access_token')).toBe('ding-token');
    expect(got?.body.markdown).toMatchObject({ title: 'Due soon', text: expect.stringContaining('[Open](https://app.example/inbox/tasks/42)') });

    const bad = await failure(notifier.send({ channel: 'dingtalk', url: robots.urls.dingtalk, secret: 'SEC-wrong' }, message()));
    expect(bad).toMatchObject({ permanent: true, message: expect.stringContaining('310000') });
  });

  it('signs Feishu robot calls the way Feishu checks them, as a post in the reader’s language', async () => {
    await notifier.send({ channel: 'feishu', url: robots.urls.feishu, secret: robots.secrets.feishu }, message());
    const got = robots.accepted.filter((r) => r.robot === 'feishu').at(-1);
    expect(got?.body.content.post.zh_cn.title).toBe('任务即将到期');
    expect(got?.body.content.post.zh_cn.content).toContainEqual([{ tag: 'a', text: '打开', href: 'https://app.example/inbox/tasks/42' }]);

    const bad = await failure(notifier.send({ channel: 'feishu', url: robots.urls.feishu, secret: 'wrong' }, message()));
    expect(bad).toMatchObject({ permanent: true, message: expect.stringContaining('19021') });
  });

  it('signs the generic webhook; receivers verify it, 5xx is retried and 4xx is not', async () => {
    const target = { channel: 'webhook' as const, url: robots.urls.webhook, secret: robots.secrets.webhook };
    await notifier.send(target, message({ id: 'hook-1', data: { taskId: '42' } }));
    const got = robots.accepted.filter((r) => r.robot === 'webhook').at(-1)!;
    expect(got.headers['x-sop-delivery']).toBe('hook-1');
    expect(got.body).toMatchObject({ id: 'hook-1', kind: 'due_soon', title: '任务即将到期', data: { taskId: '42' } });
    const ts = String(got.headers['x-sop-timestamp']);
    expect(verifyWebhookSignature(robots.secrets.webhook, ts, got.raw, String(got.headers['x-sop-signature']))).toBe(true);
    expect(verifyWebhookSignature(robots.secrets.webhook, ts, got.raw.replace('42', '43'), String(got.headers['x-sop-signature']))).toBe(false);
    expect(verifyWebhookSignature(robots.secrets.webhook, ts, got.raw, String(got.headers['x-sop-signature']), { now: Date.now() + 600_000 })).toBe(false);

    robots.webhookFailures = [503];
    expect((await failure(notifier.send(target, message()))).permanent).toBe(false);
    expect((await failure(notifier.send({ ...target, secret: 'wrong' }, message()))).permanent).toBe(true);
  });

  it('treats an unreachable receiver as temporary', async () => {
    const err = await failure(notifier.send({ channel: 'webhook', url: 'http://127.0.0.1:9/hook', secret: 's' }, message()));
    expect(err.permanent).toBe(false);
  });

  it('checks its settings', () => {
    expect(() => notifyConfigFromEnv({ SMTP_URL: 'http://mail' })).toThrow('SMTP_URL must start with smtp:// or smtps://');
    expect(() => notifyConfigFromEnv({ SMTP_URL: 'smtp://mail', SMTP_POOL: 'many' })).toThrow('SMTP_POOL must be a positive integer');
    expect(notifyConfigFromEnv({ SMTP_URL: 'smtp://mail:25', SMTP_POOL: '8' }).smtp).toMatchObject({ url: 'smtp://mail:25', pool: 8 });
  });
});
