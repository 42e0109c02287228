import { lazy, Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { useMe } from '../../auth/session';
import { InboxView } from './InboxView';

const MyWeek = lazy(() => import('../dashboards/MyWeek'));

/** My tasks: the employee's home (managers and admins see their own tasks here too), with their week at a glance. */
export default function InboxPage() {
  const me = useMe();
  const { t } = useTranslation('inbox');
  return <InboxView title={t('title')} executorId={me.userId ?? undefined} summary={<Suspense fallback={null}><MyWeek /></Suspense>} />;
}
