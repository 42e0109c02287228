import type { FormInstance } from 'antd';
import type { TFunction } from 'i18next';
import { ApiError } from '../api/client';
import { i18n } from '../i18n';
import { ERROR_TEXTS } from '../i18n/error-texts';
import { applyFieldErrors, errorText, problemText, type ProblemWords } from '../lib/errors';

/**
 * A refusal's text: the shared catalog's when it has the code, else the feature's own `apiErrors.<CODE>`
 * (codes the catalog does not list yet), else what errorText says.
 */
export function refusalText(t: TFunction, ns: string, error: unknown): string {
  if (error instanceof ApiError && !ERROR_TEXTS[error.code] && i18n.exists(`${ns}:apiErrors.${error.code}`)) return t(`${ns}:apiErrors.${error.code}`);
  return errorText(error);
}

export { problemText, type ProblemWords } from '../lib/errors';

/**
 * applyFieldErrors with each problem in the viewer's words; `field` may move a detail to the form field that
 * holds it (a list's item `tagIds[2]` to the list's picker `tagIds`). Returns the details no field took, worded too.
 */
export function applyWordedFieldErrors(
  form: FormInstance, error: unknown, t: TFunction, words: ProblemWords, field: (path: string) => string = (p) => p,
): string[] {
  if (!(error instanceof ApiError)) return [];
  const details = error.details.map((d) => ({ path: field(d.path), problem: problemText(t, words, d.problem) }));
  return applyFieldErrors(form, new ApiError(error.status, error.code, error.message, details, error.requestId));
}

/** A list item's path as its list's: `then.addTagIds[1]` → `then.addTagIds`. */
export const listField = (path: string) => path.replace(/\[\d+\]$/, '');
