import { DownloadOutlined } from '@ant-design/icons';
import { Button, Dropdown } from 'antd';
import { useTranslation } from 'react-i18next';
import { useMessage } from '../../app/feedback';
import { downloadFromApi } from '../../lib/download';
import { errorText } from '../../lib/errors';

/** "Export" with CSV and Excel: the API's `…/export` sibling of a table, headers in the console's language. */
export function ExportMenu({ path, query, name, testId }: { path: string; query: Record<string, string | undefined>; name: string; testId: string }) {
  const { t, i18n } = useTranslation('dashboards');
  const message = useMessage();
  const lang = i18n.language === 'en' ? 'en' : 'zh';
  const download = (format: 'csv' | 'xlsx') => {
    const given = Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined);
    const qs = new URLSearchParams([...given, ['format', format], ['lang', lang]]);
    downloadFromApi(`${path}?${qs}`, `${name}.${format}`).catch((e) => message.error(errorText(e)));
  };
  return (
    <Dropdown menu={{ items: (['csv', 'xlsx'] as const).map((f) => ({ key: f, label: t(`export.${f}`), onClick: () => download(f) })) }}>
      <Button size="small" icon={<DownloadOutlined />} data-testid={testId}>{t('export.label')}</Button>
    </Dropdown>
  );
}
