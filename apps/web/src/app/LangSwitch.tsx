import { Segmented } from 'antd';
import { useTranslation } from 'react-i18next';
import { useSession } from '../auth/session';
import type { Lang } from '../i18n';

/** 中文 | EN, on the login page and in the header; remembered for the signed-in user. */
export function LangSwitch() {
  const { i18n } = useTranslation();
  const { changeLang } = useSession();
  return (
    <Segmented<Lang>
      size="small"
      aria-label="语言 / Language"
      value={i18n.language === 'en' ? 'en' : 'zh'}
      options={[{ label: '中文', value: 'zh' }, { label: 'EN', value: 'en' }]}
      onChange={(v) => changeLang(v)}
    />
  );
}

