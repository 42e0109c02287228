import { useQuery } from '@tanstack/react-query';
import { Alert, Empty, Skeleton, Space, Table, Tag, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { api, call, type Schemas } from '../../api/client';
import { heldReasonText } from './problem-words';

type StepProgress = Schemas['StepProgressDto'];

/** Where a running SOP's contacts are, step by step: reached, waiting, tasks made and done, left by reason. */
export default function SopProgress({ sopId, version }: { sopId: string; version: string }) {
  const { t } = useTranslation('sops');
  const progress = useQuery({
    queryKey: ['sops', 'progress', sopId, version],
    queryFn: () => call(api.GET('/api/sops/{id}/progress', { params: { path: { id: sopId } } })),
    refetchInterval: 60_000,
  });
  if (progress.isPending) return <Skeleton active />;
  const data = progress.data;
  if (!data) return null;
  const journey = data.kind === 'journey';
  const reason = (r: string) => t(`progress.reasons.${r}`, { defaultValue: r });
  return (
    <Space direction="vertical" style={{ width: '100%' }} data-testid="sop-progress">
      {data.held.length > 0 && (
        // tasks whose content failed to render: held back from every executor until ops fix the template
        <Alert type="error" showIcon data-testid="sop-held"
          message={t('progress.held', { count: data.held.reduce((n, h) => n + h.tasks, 0) })}
          description={<ul style={{ margin: 0, paddingInlineStart: 20 }}>
            {data.held.map((h) => <li key={`${h.version}:${h.reason}`}>{t('progress.heldReason', { version: h.version ?? '?', reason: heldReasonText(t, h.reason), count: h.tasks })}</li>)}
          </ul>} />
      )}
      {journey && <Typography.Text type="secondary">{t('progress.totals', data.enrollments)}</Typography.Text>}
      <Table<StepProgress>
        rowKey="index"
        size="small"
        pagination={false}
        scroll={{ x: 720 }}
        dataSource={data.steps}
        locale={{ emptyText: <Empty description={t('progress.none')} /> }}
        onRow={(s) => ({ 'data-testid': `progress-step-${s.index}` } as React.HTMLAttributes<HTMLElement>)}
        columns={[
          { title: t('progress.step'), key: 'step', render: (_, s) => `${s.index + 1}. ${s.name ?? t('progress.olderStep')}` },
          { title: t('progress.entered'), dataIndex: 'entered', align: 'right', width: 80 },
          ...(journey ? [{ title: t('progress.waiting'), dataIndex: 'waiting', align: 'right' as const, width: 80 }] : []),
          { title: t('progress.tasksCreated'), dataIndex: 'tasksCreated', align: 'right', width: 100 },
          { title: t('progress.pending'), key: 'pending', align: 'right', width: 80, render: (_, s) => s.tasks.pending },
          { title: t('progress.done'), key: 'done', align: 'right', width: 80, render: (_, s) => <span data-testid={`progress-done-${s.index}`}>{s.tasks.done}</span> },
          { title: t('progress.skippedExpired'), key: 'other', align: 'right', width: 140, render: (_, s) => `${s.tasks.skipped} / ${s.tasks.expired} / ${s.tasks.cancelled}` },
          // only while something is held: the alert above says why
          ...(data.held.length ? [{
            title: t('progress.heldColumn'), key: 'held', align: 'right' as const, width: 80,
            render: (_: unknown, s: StepProgress) => <Typography.Text type={s.tasks.held ? 'danger' : undefined} data-testid={`progress-held-${s.index}`}>{s.tasks.held}</Typography.Text>,
          }] : []),
          ...(journey ? [{
            title: t('progress.exited'), key: 'exited', width: 200,
            render: (_: unknown, s: StepProgress) => (s.exited.length ? s.exited.map((e) => <Tag key={e.reason}>{reason(e.reason)} {e.contacts}</Tag>) : '—'),
          }] : []),
        ]}
      />
    </Space>
  );
}
