import accepts from 'accepts';
import type { HttpRequest } from '../../common/http';

/**
 * The public page a channel code's QR code opens (`/j/{code id}`): a customer leaves a phone number and a
 * name and arrives through the code. Plain HTML with inline styles and no script, so it opens in any
 * in-app browser (WeCom, WeChat) on a phone; Chinese unless the browser asks for English first.
 */

/** The join link of a code, on the origin the caller reached the API at. */
export function joinUrl(req: HttpRequest, id: string): string {
  return `${req.protocol}://${req.host}/j/${id}`;
}

/**
 * A phone number as contacts keep it: a mainland mobile number as its 11 digits (a +86 or 0086 prefix,
 * spaces and dashes dropped), any other as + and 6 to 15 digits; null when it is neither.
 */
export function normalizePhone(raw: string): string | null {
  const p = raw.replace(/[\s\-().]/g, '').replace(/^(\+86|0086)(?=1\d{10}$)/, '');
  if (/^1[3-9]\d{9}$/.test(p)) return p;
  if (/^\+[1-9]\d{5,14}$/.test(p)) return p;
  return null;
}

type PageLang = 'zh' | 'en';

/** Chinese unless English comes before any Chinese in Accept-Language. */
export function pageLang(req: HttpRequest): PageLang {
  return accepts(req.raw).languages('zh', 'en') === 'en' ? 'en' : 'zh';
}

const TEXTS = {
  zh: {
    lead: '留下联系方式，专属顾问会尽快通过企业微信或电话联系你。',
    name: '称呼（选填）',
    phone: '手机号',
    consent: '我同意 {org} 使用以上信息与我联系',
    submit: '提交',
    phoneInvalid: '请输入有效的手机号（如 138 0013 8000）',
    consentMissing: '请勾选同意后再提交',
    thanks: '提交成功',
    thanksLead: '{org} 的顾问会尽快与你联系。',
    privacy: '你的信息仅用于 {org} 与你联系，不会用于其他用途。',
  },
  en: {
    lead: 'Leave your number and your advisor will get in touch on WeCom or by phone.',
    name: 'Name (optional)',
    phone: 'Mobile number',
    consent: 'I agree that {org} may use these details to contact me',
    submit: 'Submit',
    phoneInvalid: 'Enter a valid mobile number (e.g. 138 0013 8000 or +44 7700 900123)',
    consentMissing: 'Tick the box to agree before submitting',
    thanks: 'Thank you',
    thanksLead: 'An advisor from {org} will be in touch soon.',
    privacy: 'Your details are used only for {org} to contact you.',
  },
} satisfies Record<PageLang, Record<string, string>>;

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const text = (lang: PageLang, key: keyof (typeof TEXTS)['zh'], org = '') => escape(TEXTS[lang][key].replace('{org}', org));

function frame(lang: PageLang, title: string, body: string): string {
  return `<!doctype html>
<html lang="${lang === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<style>
  body { margin: 0; font: 16px/1.6 -apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; background: #f5f5f5; color: #1f1f1f; }
  main { max-width: 420px; margin: 0 auto; padding: 32px 20px; }
  .card { background: #fff; border-radius: 12px; padding: 24px 20px; box-shadow: 0 1px 4px rgba(0,0,0,.08); }
  h1 { font-size: 22px; margin: 0 0 8px; }
  p { margin: 0 0 16px; color: #434343; }
  label { display: block; margin: 0 0 6px; font-weight: 600; }
  input[type=text], input[type=tel] { box-sizing: border-box; width: 100%; font-size: 17px; padding: 10px 12px; border: 1px solid #8c8c8c; border-radius: 8px; margin: 0 0 16px; }
  .consent { display: flex; gap: 8px; align-items: flex-start; font-weight: 400; margin: 0 0 20px; }
  .consent input { margin-top: 5px; width: 18px; height: 18px; }
  button { width: 100%; font-size: 17px; padding: 12px; border: 0; border-radius: 8px; background: #07a35a; color: #fff; font-weight: 600; }
  .error { color: #b42318; margin: -8px 0 16px; }
  .small { font-size: 13px; color: #595959; margin: 16px 0 0; }
</style>
</head>
<body><main><div class="card">${body}</div></main></body>
</html>`;
}

export interface JoinFormState {
  name?: string;
  phone?: string;
  consent?: boolean;
  problems?: ('phoneInvalid' | 'consentMissing')[];
}

/** The form (again with the customer's input and what is wrong with it after a refused post). */
export function joinFormPage(lang: PageLang, organization: string, state: JoinFormState = {}): string {
  const org = escape(organization);
  const problem = (key: 'phoneInvalid' | 'consentMissing') =>
    state.problems?.includes(key) ? `<p class="error" id="${key}" role="alert">${text(lang, key)}</p>` : '';
  return frame(lang, org, `
<h1>${org}</h1>
<p>${text(lang, 'lead')}</p>
<form method="post" novalidate>
  <label for="name">${text(lang, 'name')}</label>
  <input type="text" id="name" name="name" maxlength="200" autocomplete="name" value="${escape(state.name ?? '')}">
  <label for="phone">${text(lang, 'phone')}</label>
  <input type="tel" id="phone" name="phone" maxlength="50" autocomplete="tel" inputmode="tel" required value="${escape(state.phone ?? '')}"${state.problems?.includes('phoneInvalid') ? ' aria-invalid="true" aria-describedby="phoneInvalid"' : ''}>
  ${problem('phoneInvalid')}
  <label class="consent"><input type="checkbox" name="consent" value="yes"${state.consent ? ' checked' : ''}> <span>${text(lang, 'consent', organization)}</span></label>
  ${problem('consentMissing')}
  <button type="submit">${text(lang, 'submit')}</button>
</form>
<p class="small">${text(lang, 'privacy', organization)}</p>`);
}

export function joinedPage(lang: PageLang, organization: string): string {
  return frame(lang, text(lang, 'thanks'), `<h1>${text(lang, 'thanks')}</h1><p>${text(lang, 'thanksLead', organization)}</p>`);
}
