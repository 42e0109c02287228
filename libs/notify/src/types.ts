/** Where a reminder goes: an inbox or a group robot / webhook a user registered. */
export type Target =
  | { channel: 'email'; to: string; name?: string }
  | { channel: 'wecom'; url: string }
  | { channel: 'dingtalk'; url: string; secret?: string }
  | { channel: 'feishu'; url: string; secret?: string }
  | { channel: 'webhook'; url: string; secret: string };

export type Channel = Target['channel'];

/** One reminder, already rendered in the recipient's language. */
export interface Message {
  /** Stable per delivery: the email Message-ID and the webhook delivery id, so a receiver can drop a repeat. */
  id: string;
  kind: string;
  locale: 'zh' | 'en';
  title: string;
  body: string;
  /** A link into the app (the task, the inbox). */
  url?: string;
  /** Structured fields for machine receivers; only the generic webhook carries them. */
  data?: Record<string, unknown>;
}

export interface NotifyConfig {
  smtp?: { url: string; from: string; pool?: number };
  /** Per request to a robot or webhook, and per SMTP connection phase. */
  timeoutMs?: number;
}

export interface Notifier {
  /**
   * Resolves once the receiver accepted the message; throws DeliveryFailure otherwise. `publicOnly`: a robot or
   * webhook may only be reached at a public address, resolved once and connected to as checked (DNS pinning).
   */
  send(target: Target, message: Message, options?: { publicOnly?: { allowHosts: readonly string[] } }): Promise<void>;
  close(): Promise<void>;
  readonly emailEnabled: boolean;
}

/** A refused or failed delivery. Permanent ones (bad address, bad robot key) must not be retried. */
export class DeliveryFailure extends Error {
  constructor(message: string, readonly permanent: boolean) {
    super(message);
    this.name = 'DeliveryFailure';
  }
}
