import { useQuery } from '@tanstack/react-query';
import { Button, Flex, Select } from 'antd';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client';
import { UserSelect } from '../../components/UserSelect';
import { CHANNELS, type Scope } from './inbox-data';

/** The inbox's filters (their own chunk: the list shows before any picker loads). */
export default function Filters({ team, value, onChange }: { team: boolean; value: Scope; onChange(v: Scope): void }) {
  const { t } = useTranslation('inbox');
  const executorId = value.executorId;
  const sops = useQuery({
    queryKey: ['inbox', 'sops', executorId ?? null],
    queryFn: () => call(api.GET('/api/inbox/sops', { params: { query: executorId ? { executorId } : {} } })),
  });
  return (
    <Flex vertical gap="small" style={{ width: 260 }}>
      <label htmlFor="filter-sop">{t('filters.sop')}</label>
      <Select id="filter-sop" allowClear showSearch optionFilterProp="label" placeholder={t('filters.allSops')} value={value.sopId} loading={sops.isPending}
        onChange={(sopId) => onChange({ ...value, sopId })} options={(sops.data ?? []).map((s) => ({ value: s.id, label: `${s.name} (${s.pending})` }))} />
      <label htmlFor="filter-channel">{t('filters.channel')}</label>
      <Select id="filter-channel" allowClear placeholder={t('filters.allChannels')} value={value.channel} onChange={(channel) => onChange({ ...value, channel })}
        options={CHANNELS.map((c) => ({ value: c, label: t(`channels.${c}`) }))} />
      {team && (
        <>
          <label htmlFor="filter-executor">{t('filters.executor')}</label>
          <UserSelect id="filter-executor" placeholder={t('filters.everyone')} value={value.executorId} onChange={(executorId) => onChange({ ...value, executorId })} />
        </>
      )}
      <Button onClick={() => onChange({})} disabled={!Object.values(value).some(Boolean)}>{t('filters.clear')}</Button>
    </Flex>
  );
}
