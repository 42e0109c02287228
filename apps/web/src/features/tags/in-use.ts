import type { TFunction } from 'i18next';
import type { ErrorDetail } from '../../api/client';
import type { Lang } from '../../i18n';

/**
 * Why a tag (or group) cannot be deleted, from a TAG_IN_USE refusal's details, in the viewer's words: each user by
 * its kind and name (分群「高意向客户」, segment "High intent"), joined as the language joins a list. A kind this
 * console has no word for shows the name alone; null when a detail names nothing (the caller then says it without
 * names).
 */
export function tagUsersText(t: TFunction, lang: Lang, details: ErrorDetail[]): string | null {
  if (!details.length || details.some((d) => !d.name)) return null;
  const words = t('users', { returnObjects: true }) as Record<string, string>;
  const users = details.map(({ kind, name }) => (kind && words[kind] ? t('user', { kind: words[kind], name }) : t('userNamed', { name })));
  return t('usedBy', { what: new Intl.ListFormat(lang === 'zh' ? 'zh-CN' : 'en', { type: 'conjunction' }).format(users) });
}
