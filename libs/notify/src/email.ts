import { createTransport } from 'nodemailer';
import { html, plainText } from './format';
import { DeliveryFailure, type Message } from './types';

export interface SmtpSettings { url: string; from: string; pool?: number }

/** Connection problems and 4xx replies may pass; 5xx replies and refused envelopes will not. */
function classify(err: unknown): DeliveryFailure {
  const e = err as { message?: string; responseCode?: number; code?: string };
  const permanent = (e.responseCode !== undefined && e.responseCode >= 500) || (e.code === 'EENVELOPE' && !e.responseCode);
  return new DeliveryFailure(`SMTP: ${e.message ?? String(err)}`, permanent);
}

/** The host part of the sender, so Message-IDs look like the sender's own. */
function senderDomain(from: string): string {
  return /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'sop-engine.invalid';
}

/**
 * A pooled SMTP sender: a few long-lived connections carry many messages. The delivery id becomes
 * the Message-ID, so a message sent twice after a crash is recognisable as one by mail clients.
 */
export function createEmailSender(settings: SmtpSettings, timeoutMs: number) {
  const transport = createTransport({
    url: settings.url,
    pool: true,
    maxConnections: settings.pool ?? 5,
    maxMessages: Infinity,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  const domain = senderDomain(settings.from);
  return {
    async send(to: string, name: string | undefined, message: Message): Promise<void> {
      try {
        await transport.sendMail({
          from: settings.from,
          to: name ? { name, address: to } : to,
          subject: message.title,
          text: plainText(message),
          html: html(message),
          messageId: `<${message.id.replace(/[^\w.-]/g, '-')}@${domain}>`,
          headers: { 'X-Sop-Delivery': message.id, 'X-Sop-Kind': message.kind },
        });
      } catch (err) {
        throw classify(err);
      }
    },
    close: async () => transport.close(),
  };
}
