import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import { common } from './common';

export type Lang = 'zh' | 'en';
export const LANGS: Lang[] = ['zh', 'en'];

/** A feature's texts: the same keys in both languages (a unit test holds every feature to it). */
export interface Messages {
  zh: Record<string, unknown>;
  en: Record<string, unknown>;
}

const LANG_KEY = 'sop.lang';

/** Keys asked for but missing in the current language; the browser tests assert there are none. */
const missing = new Set<string>();
(window as unknown as { __missingI18n: Set<string> }).__missingI18n = missing;

export function initialLang(): Lang {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved === 'zh' || saved === 'en') return saved;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

void i18n.use(initReactI18next).init({
  lng: initialLang(),
  fallbackLng: false,
  defaultNS: 'common',
  ns: ['common'],
  resources: { zh: { common: common.zh }, en: { common: common.en } },
  interpolation: { escapeValue: false },
  returnNull: false,
  saveMissing: true,
  missingKeyHandler: (lngs, ns, key) => missing.add(`${lngs.join(',')}:${ns}:${key}`),
});

/** Registers a feature's texts under its namespace (pages call it when their chunk loads). */
export function addMessages(ns: string, messages: Messages): void {
  for (const lang of LANGS) {
    if (!i18n.hasResourceBundle(lang, ns)) i18n.addResourceBundle(lang, ns, messages[lang]);
  }
}

export function setLang(lang: Lang): void {
  localStorage.setItem(LANG_KEY, lang);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  void i18n.changeLanguage(lang);
}

export { i18n };
