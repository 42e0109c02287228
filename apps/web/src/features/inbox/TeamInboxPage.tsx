import { useTranslation } from 'react-i18next';
import { InboxView } from './InboxView';

/** The team's tasks, overdue first: a manager's teams (an admin's or ops's whole organization), by person. */
export default function TeamInboxPage() {
  const { t } = useTranslation('inbox');
  return <InboxView title={t('teamTitle')} team initialList="overdue" />;
}
