import { useQuery } from '@tanstack/react-query';
import { Flex, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client';
import { addMessages } from '../../i18n';
import { percent } from './format';
import { messages } from './messages';

addMessages('dashboards', messages);

/** The employee's own week at a glance, above their inbox: done, on time, responses (the week before in brackets). */
export default function MyWeek() {
  const { t } = useTranslation('dashboards');
  const week = useQuery({ queryKey: ['dashboards', 'my-week'], queryFn: () => call(api.GET('/api/dashboards/my-week')), staleTime: 60_000 });
  if (!week.data) return null;
  const { current: c, previous: p } = week.data;
  const item = (label: string, now: string, before: string) => (
    <Typography.Text>
      <Typography.Text type="secondary">{label}</Typography.Text> <Typography.Text strong>{now}</Typography.Text>
      <Typography.Text type="secondary"> ({before})</Typography.Text>
    </Typography.Text>
  );
  return (
    <Flex gap="middle" wrap className="my-week" data-testid="my-week" aria-label={t('myWeek.title')}>
      <Typography.Text strong>{t('myWeek.title')}</Typography.Text>
      {item(t('measures.done'), String(c.done), String(p.done))}
      {item(t('measures.onTimeRate'), percent(c.onTimeRate), percent(p.onTimeRate))}
      {item(t('measures.responseRate'), percent(c.responseRate), percent(p.responseRate))}
    </Flex>
  );
}
