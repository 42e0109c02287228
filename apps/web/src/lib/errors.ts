import type { FormInstance } from 'antd';
import type { TFunction } from 'i18next';
import { featureProblemText, problemText, type ProblemWords } from './problems';
import { ApiError, type ErrorDetail } from '../api/client';
import { i18n, type Lang } from '../i18n';
import { ERROR_TEXTS } from '../i18n/error-texts';

/**
 * A refusal in the viewer's language: what keeps a resource from being deleted, named (an `…_IN_USE` whose details
 * give each user's kind and name), else the catalog's text for its code, else the API's own message.
 */
export function errorText(error: unknown): string {
  const lang = (i18n.language === 'en' ? 'en' : 'zh') as Lang;
  if (error instanceof ApiError) {
    if (error.status === 0) return i18n.t('state.offline');
    return usersText(error.details, lang) ?? ERROR_TEXTS[error.code]?.[lang] ?? i18n.t('error.unknown', { code: error.code, message: error.message });
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * The users of a resource a refusal names, each by its kind and name (分群「高意向客户」, segment "High intent"), joined
 * as the language joins a list; a kind the console has no word for shows the name alone. Null unless every detail
 * names one.
 */
function usersText(details: ErrorDetail[], lang: Lang): string | null {
  if (!details.length || details.some((d) => !d.kind || !d.name)) return null;
  const kinds = i18n.t('inUse.kinds', { returnObjects: true }) as Record<string, string>;
  const users = details.map(({ kind, name }) => (kinds[kind!] ? i18n.t('inUse.user', { kind: kinds[kind!], name }) : i18n.t('inUse.userNamed', { name })));
  return i18n.t('inUse.refused', { what: new Intl.ListFormat(lang === 'zh' ? 'zh-CN' : 'en', { type: 'conjunction' }).format(users) });
}

export { problemText, type ProblemWords };

/** A field problem in the viewer's words: a feature's own first, then the common ones, else as the API said it. */
export const fieldProblemText = (problem: string, words: ProblemWords = []): string =>
  featureProblemText(i18n.t.bind(i18n) as TFunction, words, problem);

/** `steps[0].content.template` or `$.steps[0].name` → ['steps', 0, 'content', 'template'] (antd's name path). */
export function namePath(path: string): (string | number)[] {
  return path
    .replace(/^\$\.?/, '')
    .split(/\.|\[|\]/)
    .filter(Boolean)
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/**
 * Shows each of a 422's details at the field its path names. Returns the details no field of the form took,
 * so the caller can show them beside the form.
 */
export function applyFieldErrors(form: FormInstance, error: unknown): string[] {
  if (!(error instanceof ApiError) || error.details.length === 0) return [];
  const known = new Set(fieldKeys(form));
  const byField = new Map<string, { name: (string | number)[]; errors: string[] }>();
  const rest: string[] = [];
  for (const d of error.details) {
    const name = namePath(d.path);
    const key = JSON.stringify(name);
    if (!d.path || !known.has(key)) {
      rest.push(d.path ? `${d.path}: ${fieldProblemText(d.problem)}` : fieldProblemText(d.problem));
      continue;
    }
    const entry = byField.get(key) ?? { name, errors: [] };
    entry.errors.push(fieldProblemText(d.problem));
    byField.set(key, entry);
  }
  form.setFields([...byField.values()]);
  return rest;
}

function fieldKeys(form: FormInstance): string[] {
  return form.getFieldsError().map((f) => JSON.stringify(f.name));
}
