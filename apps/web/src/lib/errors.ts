import type { FormInstance } from 'antd';
import type { TFunction } from 'i18next';
import { COMMON_PROBLEMS, problemText, type ProblemWords } from './problems';
import { ApiError } from '../api/client';
import { i18n, type Lang } from '../i18n';
import { ERROR_TEXTS } from '../i18n/error-texts';

/** A refusal in the viewer's language: the catalog's text for its code, else the API's own message. */
export function errorText(error: unknown): string {
  const lang = (i18n.language === 'en' ? 'en' : 'zh') as Lang;
  if (error instanceof ApiError) {
    if (error.status === 0) return i18n.t('state.offline');
    return ERROR_TEXTS[error.code]?.[lang] ?? i18n.t('error.unknown', { code: error.code, message: error.message });
  }
  return error instanceof Error ? error.message : String(error);
}

export { problemText, type ProblemWords };

/** A field problem in the viewer's words: a feature's own first, then the common ones, else as the API said it. */
export const fieldProblemText = (problem: string, words: ProblemWords = []): string =>
  problemText(i18n.t.bind(i18n) as TFunction, [...words, ...COMMON_PROBLEMS], problem);

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
