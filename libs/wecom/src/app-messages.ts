import { WecomApiError, type WecomClient } from './client';

/**
 * The self-built app's messages (应用消息, `POST /cgi-bin/message/send`) as text cards, within WeCom's limits:
 * title at most 128 bytes, description at most 512 bytes (UTF-8), a url and a button text of at most 4 characters.
 */
export const TEXTCARD_LIMITS = { title: 128, description: 512, btntxt: 4 };

export interface TextCard {
  title: string;
  description: string;
  url: string;
  btntxt?: string;
}

/** The longest prefix of `text` that fits in `bytes` UTF-8 bytes, never cutting a character, with '…' when cut. */
export function fitBytes(text: string, bytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= bytes) return text;
  const ellipsis = '…';
  let budget = bytes - Buffer.byteLength(ellipsis, 'utf8');
  let out = '';
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (size > budget) break;
    out += ch;
    budget -= size;
  }
  return out + ellipsis;
}

/**
 * A card's description is read by WeCom as markup (`<br>` breaks a line, `<div class="gray">` colours one): our text's
 * own angle brackets (a contact's name, an SOP's) become full-width ones so they cannot turn into markup, and line
 * breaks become `<br>`. Cut to the limit after that, never inside a tag.
 */
export function cardDescription(text: string): string {
  const marked = text.replace(/</g, '＜').replace(/>/g, '＞').replace(/\r?\n/g, '<br>');
  return fitBytes(marked, TEXTCARD_LIMITS.description).replace(/<[^>]*…$/, '…');
}

/** The card trimmed to WeCom's limits (a longer one is refused with 44004/45002 rather than cut by WeCom). */
export function textCard(card: TextCard): TextCard {
  return {
    title: fitBytes(card.title, TEXTCARD_LIMITS.title),
    description: cardDescription(card.description),
    url: card.url,
    ...(card.btntxt ? { btntxt: [...card.btntxt].slice(0, TEXTCARD_LIMITS.btntxt).join('') } : {}),
  };
}

/** WeCom refused every recipient (no such member, or none the app may reach): another try cannot help. */
export const ALL_RECIPIENTS_INVALID = 81013;

/** Sent, but WeCom named the recipient as invalid (outside the app's visible range, say): nothing reached them. */
export class RecipientRefused extends Error {
  constructor(readonly userId: string, readonly field: string) {
    super(`WeCom did not deliver to member ${userId} (${field}: not in the app's visible range, or unknown)`);
  }
}

/**
 * Sends one text card to one member. Token expiry and rate limits are handled by the client; WeCom's other
 * refusals throw WecomApiError (81013 when the member is unknown or unreachable), and a recipient named in
 * `invaliduser` (WeCom answers 0 and delivers to the others) throws RecipientRefused. Returns WeCom's msgid.
 */
export async function sendTextCard(client: WecomClient, agentId: string, userId: string, card: TextCard): Promise<string> {
  const answer = await client.post('/cgi-bin/message/send', {
    touser: userId, msgtype: 'textcard', agentid: Number(agentId), textcard: textCard(card), enable_duplicate_check: 1, duplicate_check_interval: 1800,
  });
  for (const field of ['invaliduser', 'unlicenseduser']) {
    const listed = String(answer[field] ?? '').split('|');
    if (listed.includes(userId)) throw new RecipientRefused(userId, field);
  }
  return String(answer.msgid ?? '');
}

/** Whether a failure to send an app message is final (retrying sends nothing more). */
export function isFinalSendFailure(err: unknown): boolean {
  return err instanceof RecipientRefused || (err instanceof WecomApiError && err.errcode === ALL_RECIPIENTS_INVALID);
}

/** Who a WeCom OAuth code belongs to (`/cgi-bin/auth/getuserinfo` with the app's token). */
export type OAuthIdentity = { userId: string } | { openId: string };

/** WeCom's answer for a code that is invalid, expired (5 minutes) or used already. */
export const INVALID_CODE = 40029;

export async function oauthIdentity(client: WecomClient, code: string): Promise<OAuthIdentity> {
  const answer = await client.get('/cgi-bin/auth/getuserinfo', { code });
  // members have `userid` (older answers: `UserId`); people outside the corporation only an `openid`
  const userId = answer.userid ?? answer.UserId;
  if (typeof userId === 'string' && userId) return { userId };
  const openId = answer.openid ?? answer.OpenId;
  return { openId: typeof openId === 'string' ? openId : '' };
}
