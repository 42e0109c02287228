import type { OAuthRefusal } from './wecom-oauth.service';

/** What each refusal tells the person, in Chinese and English (the page shows both: we do not know who they are). */
const TEXTS: Record<OAuthRefusal, { zh: string; en: string }> = {
  not_connected: { zh: '该组织已不再连接企业微信，无法通过企业微信登录。', en: 'This organization is no longer connected to WeCom, so you cannot sign in through WeCom.' },
  state_invalid: {
    zh: '登录链接已失效或不是从本设备发起的。请回到企业微信，重新点开提醒卡片。',
    en: 'This sign-in link has expired or was not started on this device. Go back to WeCom and open the reminder card again.',
  },
  code_invalid: {
    zh: '企业微信的授权码无效、已过期或已被使用。请回到企业微信，重新点开提醒卡片。',
    en: 'WeCom\'s authorization code is invalid, expired or already used. Go back to WeCom and open the reminder card again.',
  },
  not_member: {
    zh: '你不是该企业的企业微信成员，无法登录。请使用企业微信（而非微信）打开。',
    en: 'You are not a member of this organization\'s WeCom, so you cannot sign in. Open the card in WeCom, not WeChat.',
  },
  not_matched: {
    zh: '你的企业微信账号尚未关联到本系统的用户。请联系管理员在「企业微信」页面为你关联账号。',
    en: 'Your WeCom account is not linked to a user here yet. Ask an admin to match you on the WeCom page.',
  },
  wecom_failed: {
    zh: '暂时无法向企业微信确认你的身份，请稍后重试。',
    en: 'WeCom could not confirm who you are just now. Please try again shortly.',
  },
};

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The refusal page's HTML (no scripts, nothing loaded from elsewhere). */
export function refusalPage(reason: OAuthRefusal): string {
  const t = TEXTS[reason];
  const html = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>无法登录 · Cannot sign in</title>
<style>body{font-family:-apple-system,BlinkMacSystemFont,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;padding:48px 24px;color:#1f1f1f;background:#f5f5f5}
main{max-width:480px;margin:auto;background:#fff;border-radius:8px;padding:24px}h1{font-size:20px;margin:0 0 16px}p{line-height:1.6}.en{color:#595959}</style>
</head><body><main data-reason="${escape(reason)}">
<h1>无法登录 <span lang="en">· Cannot sign in</span></h1>
<p>${escape(t.zh)}</p>
<p class="en" lang="en">${escape(t.en)}</p>
</main></body></html>`;
  return html;
}
