import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RobotRequest { robot: 'wecom' | 'dingtalk' | 'feishu' | 'webhook'; headers: IncomingMessage['headers']; query: URLSearchParams; body: any; raw: string }

/**
 * Local stand-ins for the WeCom, DingTalk and Feishu group robots and a generic webhook receiver. Each
 * checks the request the way its platform documents it (key, signature recipe, time window, message
 * shape) with its own code, not the sender's, and answers in the platform's reply format.
 */
export class RobotServer {
  readonly accepted: RobotRequest[] = [];
  readonly refused: Array<RobotRequest & { reason: string }> = [];
  /** Answer the next n webhook calls with this HTTP status (e.g. 503) before accepting. */
  webhookFailures: number[] = [];
  /** Answer the next n WeCom calls with errcode 45009 (sent too often). */
  wecomRateLimited = 0;

  private readonly server: Server;
  baseUrl = '';

  private constructor(readonly secrets: { wecomKey: string; dingtalk: string; feishu: string; webhook: string }) {
    this.server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (chunk) => (raw += chunk));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://local');
        const reply = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        let body: any;
        try { body = JSON.parse(raw); } catch { return reply(400, { error: 'body is not JSON' }); }
        this.handle(url, req, raw, body, reply);
      });
    });
  }

  static async start(secrets = { wecomKey: 'wecom-key-1', dingtalk: 'SEC-dingtalk-secret', feishu: 'feishu-secret', webhook: 'webhook-secret' }): Promise<RobotServer> {
    const robots = new RobotServer(secrets);
    await new Promise<void>((resolve) => robots.server.listen(0, '127.0.0.1', resolve));
    robots.baseUrl = `http://127.0.0.1:${(robots.server.address() as AddressInfo).port}`;
    return robots;
  }

  get urls() {
    return {
      wecom: `${this.baseUrl}/cgi-bin/webhook/send?key=${this.secrets.wecomKey}`,
      dingtalk: `${this.baseUrl}/robot/send?access_token=ding-token`,
      feishu: `${this.baseUrl}/open-apis/bot/v2/hook/feishu-hook-id`,
      webhook: `${this.baseUrl}/hooks/sop`,
    };
  }

  private handle(url: URL, req: IncomingMessage, raw: string, body: any, reply: (status: number, body: unknown) => void): void {
    const robot = url.pathname.startsWith('/cgi-bin') ? 'wecom' : url.pathname.startsWith('/robot') ? 'dingtalk'
      : url.pathname.startsWith('/open-apis') ? 'feishu' : 'webhook';
    const request: RobotRequest = { robot, headers: req.headers, query: url.searchParams, body, raw };
    const refuse = (reason: string, status: number, answer: unknown) => {
      this.refused.push({ ...request, reason });
      reply(status, answer);
    };
    const accept = (status: number, answer: unknown) => {
      this.accepted.push(request);
      reply(status, answer);
    };
    if (robot === 'wecom') {
      if (url.searchParams.get('key') !== this.secrets.wecomKey) return refuse('bad key', 200, { errcode: 93000, errmsg: 'invalid webhook url' });
      if (this.wecomRateLimited > 0) { this.wecomRateLimited--; return refuse('rate limited', 200, { errcode: 45009, errmsg: 'api freq out of limit' }); }
      if (body.msgtype !== 'markdown' || typeof body.markdown?.content !== 'string') return refuse('shape', 200, { errcode: 40008, errmsg: 'invalid message type' });
      if (Buffer.byteLength(body.markdown.content) > 4096) return refuse('too long', 200, { errcode: 40058, errmsg: 'content exceed max length' });
      return accept(200, { errcode: 0, errmsg: 'ok' });
    }
    if (robot === 'dingtalk') {
      const timestamp = url.searchParams.get('timestamp') ?? '';
      const expected = createHmac('sha256', this.secrets.dingtalk).update(`${timestamp}\n${this.secrets.dingtalk}`).digest('base64');
      if (url.searchParams.get('sign') !== expected || Math.abs(Date.now() - Number(timestamp)) > 3_600_000) {
        return refuse('signature', 200, { errcode: 310000, errmsg: 'sign not match' });
      }
      if (body.msgtype !== 'markdown' || typeof body.markdown?.title !== 'string' || typeof body.markdown?.text !== 'string') {
        return refuse('shape', 200, { errcode: 40035, errmsg: 'missing parameter' });
      }
      return accept(200, { errcode: 0, errmsg: 'ok' });
    }
    if (robot === 'feishu') {
      const key = `${body.timestamp}\n${this.secrets.feishu}`;
      const expected = createHmac('sha256', key).update('').digest('base64');
      if (body.sign !== expected || Math.abs(Date.now() / 1000 - Number(body.timestamp)) > 3600) {
        return refuse('signature', 200, { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time' });
      }
      const post = body.content?.post;
      const locale = post && Object.keys(post)[0];
      if (body.msg_type !== 'post' || !locale || typeof post[locale].title !== 'string' || !Array.isArray(post[locale].content)) {
        return refuse('shape', 200, { code: 9499, msg: 'Bad Request' });
      }
      return accept(200, { code: 0, msg: 'success', data: {} });
    }
    const status = this.webhookFailures.shift();
    if (status) return refuse(`failing with ${status}`, status, { error: 'try later' });
    const timestamp = String(req.headers['x-sop-timestamp'] ?? '');
    const expected = `v1=${createHmac('sha256', this.secrets.webhook).update(`${timestamp}.${raw}`).digest('hex')}`;
    if (req.headers['x-sop-signature'] !== expected || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) {
      return refuse('signature', 401, { error: 'bad signature' });
    }
    return accept(200, { ok: true });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
