import type { Message } from './types';

const OPEN_LABEL = { zh: '打开', en: 'Open' } as const;

/** Markdown for the group robots: bold title, body, and the app link. */
export function markdown(message: Message): string {
  const link = message.url ? `\n\n[${OPEN_LABEL[message.locale]}](${message.url})` : '';
  return `**${message.title}**\n\n${message.body}${link}`;
}

/** Plain text for email bodies and robots without markdown. */
export function plainText(message: Message): string {
  return message.url ? `${message.body}\n\n${OPEN_LABEL[message.locale]}: ${message.url}` : message.body;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** A small HTML email: the title, the body's lines, and a button to the app. */
export function html(message: Message): string {
  const lines = escapeHtml(message.body).split('\n').join('<br>');
  const button = message.url
    ? `<p><a href="${escapeHtml(message.url)}" style="display:inline-block;padding:8px 16px;background:#2563eb;color:#fff;border-radius:6px;text-decoration:none">${OPEN_LABEL[message.locale]}</a></p>`
    : '';
  return `<!doctype html><html lang="${message.locale === 'zh' ? 'zh-CN' : 'en'}"><body style="font-family:system-ui,sans-serif;line-height:1.5">`
    + `<h2 style="font-size:18px">${escapeHtml(message.title)}</h2><p>${lines}</p>${button}</body></html>`;
}
