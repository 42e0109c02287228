import { createHmac } from 'node:crypto';
import { markdown } from './format';
import { type HttpOptions, postJson, safeHost } from './http';
import { DeliveryFailure, type Message } from './types';

/**
 * Group robots answer HTTP 200 with an error code in the body. Rate limits are worth a retry;
 * any other code (bad key, failed signature, keyword filter) will fail again the same way.
 */
function checkReply(url: string, reply: unknown, codeField: 'errcode' | 'code', rateLimited: number[]): void {
  const body = reply as Record<string, unknown>;
  const code = Number(body[codeField] ?? body.StatusCode ?? 0);
  if (code === 0) return;
  const message = String(body.errmsg ?? body.msg ?? body.StatusMessage ?? '');
  throw new DeliveryFailure(`${safeHost(url)} refused the message: ${code} ${message}`.trim(), !rateLimited.includes(code));
}

/** WeCom group robot: markdown, no signature (the key in the URL is the secret). 45009: sent too often. */
export async function sendWeCom(url: string, message: Message, http: HttpOptions): Promise<void> {
  const reply = await postJson(url, { msgtype: 'markdown', markdown: { content: markdown(message) } }, http);
  checkReply(url, reply, 'errcode', [45009]);
}

/** DingTalk's signature: base64 HMAC-SHA256 of "timestamp(ms)\nsecret" keyed by the secret. */
export function dingTalkSign(timestampMs: number, secret: string): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

/** DingTalk group robot: markdown; with a secret, timestamp and sign ride in the query. 130101: sent too often. */
export async function sendDingTalk(url: string, secret: string | undefined, message: Message, http: HttpOptions, now = Date.now()): Promise<void> {
  const signed = new URL(url);
  if (secret) {
    signed.searchParams.set('timestamp', String(now));
    signed.searchParams.set('sign', dingTalkSign(now, secret));
  }
  const reply = await postJson(signed.toString(), { msgtype: 'markdown', markdown: { title: message.title, text: markdown(message) } }, http);
  checkReply(url, reply, 'errcode', [130101]);
}

/** Feishu's signature: base64 HMAC-SHA256 of an empty message keyed by "timestamp(s)\nsecret". */
export function feishuSign(timestampSeconds: number, secret: string): string {
  return createHmac('sha256', `${timestampSeconds}\n${secret}`).update('').digest('base64');
}

/** Feishu group robot: a rich-text post; with a secret, timestamp and sign ride in the body. 9499, 11232: rate limits. */
export async function sendFeishu(url: string, secret: string | undefined, message: Message, http: HttpOptions, now = Date.now()): Promise<void> {
  const lines = message.body.split('\n').map((text) => [{ tag: 'text', text }]);
  if (message.url) lines.push([{ tag: 'a', text: message.locale === 'zh' ? '打开' : 'Open', href: message.url } as never]);
  const post = { msg_type: 'post', content: { post: { [message.locale === 'zh' ? 'zh_cn' : 'en_us']: { title: message.title, content: lines } } } };
  const timestamp = Math.floor(now / 1000);
  const body = secret ? { timestamp: String(timestamp), sign: feishuSign(timestamp, secret), ...post } : post;
  const reply = await postJson(url, body, http);
  checkReply(url, reply, 'code', [9499, 11232]);
}
