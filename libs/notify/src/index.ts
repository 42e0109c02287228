import { createEmailSender } from './email';
import { sendDingTalk, sendFeishu, sendWeCom } from './robots';
import { DeliveryFailure, type Message, type Notifier, type NotifyConfig, type Target } from './types';
import { sendWebhook } from './webhook';

export * from './types';
export { dingTalkSign, feishuSign } from './robots';
export { verifyWebhookSignature, webhookSignature, WEBHOOK_HEADERS } from './webhook';
export { fetchImage, type FetchedImage, pinnedLookup, sniffImageType } from './http';

const DEFAULT_TIMEOUT_MS = 10_000;

/** One notifier per process: it holds the SMTP pool, so close it on shutdown. */
export function createNotifier(config: NotifyConfig): Notifier {
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const email = config.smtp ? createEmailSender(config.smtp, timeoutMs) : undefined;
  return {
    emailEnabled: email !== undefined,
    async send(target: Target, message: Message, options = {}): Promise<void> {
      const http = { timeoutMs, publicOnly: options.publicOnly };
      switch (target.channel) {
        case 'email':
          if (!email) throw new DeliveryFailure('email is not configured (SMTP_URL is unset)', true);
          return email.send(target.to, target.name, message);
        case 'wecom': return sendWeCom(target.url, message, http);
        case 'dingtalk': return sendDingTalk(target.url, target.secret, message, http);
        case 'feishu': return sendFeishu(target.url, target.secret, message, http);
        case 'webhook': return sendWebhook(target.url, target.secret, message, http);
      }
    },
    close: async () => email?.close(),
  };
}

/** SMTP_URL (smtp://user:pass@host:587, smtps://… for implicit TLS), MAIL_FROM, SMTP_POOL; email is off without SMTP_URL. */
export function notifyConfigFromEnv(env: NodeJS.ProcessEnv): NotifyConfig {
  const url = env.SMTP_URL?.trim();
  if (!url) return {};
  if (!/^smtps?:\/\//.test(url)) throw new Error('SMTP_URL must start with smtp:// or smtps://');
  const pool = env.SMTP_POOL ? Number(env.SMTP_POOL) : undefined;
  if (pool !== undefined && !(Number.isInteger(pool) && pool > 0)) throw new Error('SMTP_POOL must be a positive integer');
  return { smtp: { url, from: env.MAIL_FROM?.trim() || 'SOP reminders <reminders@sop-engine.invalid>', pool } };
}
