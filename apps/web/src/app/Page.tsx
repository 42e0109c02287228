import { Flex, Typography } from 'antd';
import { useEffect, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

/** One page's frame: its title (also the tab's), actions on the right, then its content. */
export function Page({ title, extra, children }: { title: string; extra?: ReactNode; children: ReactNode }) {
  const { t } = useTranslation();
  useEffect(() => {
    document.title = `${title} · ${t('appName')}`;
  }, [title, t]);
  return (
    <section className="page">
      <Flex justify="space-between" align="center" wrap gap="small" className="page-head">
        <Typography.Title level={3} style={{ margin: 0 }}>{title}</Typography.Title>
        {extra && <Flex gap="small" wrap>{extra}</Flex>}
      </Flex>
      {children}
    </section>
  );
}
