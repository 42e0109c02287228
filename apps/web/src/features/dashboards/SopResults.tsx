import { DownloadOutlined, TrophyOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Card, Dropdown, Empty, Flex, Modal, Progress, Skeleton, Table, Tag, Typography } from 'antd';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call, type Schemas } from '../../api/client';
import { useMessage } from '../../app/feedback';
import { addMessages } from '../../i18n';
import { downloadFromApi } from '../../lib/download';
import { errorText } from '../../lib/errors';
import { percent } from './format';
import { messages } from './messages';

addMessages('dashboards', messages);

type Funnel = Schemas['FunnelStepDto'];
type Variant = Schemas['VariantResultDto'];
const STAGES = ['entered', 'created', 'done', 'responded', 'converted'] as const;

/** One SOP's last 30 days: the funnel per step, exits by reason, and its A/B variants compared, with the winner action. */
export default function SopResults({ sopId }: { sopId: string }) {
  const { t, i18n } = useTranslation('dashboards');
  const message = useMessage();
  const queries = useQueryClient();
  const [modal, holder] = Modal.useModal();
  const results = useQuery({ queryKey: ['dashboards', 'sop', sopId], queryFn: () => call(api.GET('/api/dashboards/sops/{id}', { params: { path: { id: sopId } } })) });
  const winner = useMutation({
    mutationFn: ({ stepIndex, variant }: { stepIndex: number; variant: string }) =>
      call(api.POST('/api/dashboards/sops/{id}/steps/{stepIndex}/winner', { params: { path: { id: sopId, stepIndex } }, body: { variant } })),
    onSuccess: () => { message.success(t('results.winnerDone')); void queries.invalidateQueries({ queryKey: ['sops'] }); void queries.invalidateQueries({ queryKey: ['dashboards'] }); },
    onError: (e) => message.error(errorText(e)),
  });
  const loaded = results.isSuccess;
  useEffect(() => { // opened from the dashboard's SOP table (…#sop-results): show the card, far down the SOP's page
    if (loaded && window.location.hash === '#sop-results') document.getElementById('sop-results')?.scrollIntoView({ block: 'start' });
  }, [loaded]);
  if (results.isPending) return <Skeleton active />;
  if (results.error) return <Alert type="error" showIcon message={errorText(results.error)} />;
  const r = results.data;
  const lang = i18n.language === 'en' ? 'en' : 'zh';
  const exportXlsx = () => downloadFromApi(`/api/dashboards/sops/${sopId}/export?format=xlsx&lang=${lang}&from=${r.range.from}&to=${r.range.to}`, 'sop-results.xlsx')
    .catch((e) => message.error(errorText(e)));
  const top = Math.max(1, ...r.funnel.map((s) => s.entered));

  return (
    <Flex vertical gap={16} id="sop-results" data-testid="sop-results">
      {holder}
      <Card size="small" title={`${t('results.funnel')} · ${r.range.from} – ${r.range.to}`}
        extra={<Dropdown menu={{ items: [{ key: 'xlsx', label: t('export.xlsx'), onClick: () => void exportXlsx() }] }}><Button size="small" icon={<DownloadOutlined />}>{t('export.label')}</Button></Dropdown>}>
        <Table<Funnel>
          rowKey="stepIndex" size="small" pagination={false} dataSource={r.funnel} locale={{ emptyText: <Empty description={t('empty')} /> }}
          columns={[
            { title: t('results.step'), dataIndex: 'stepName', render: (name: string, s) => `${s.stepIndex + 1}. ${name}` },
            ...STAGES.map((stage) => ({
              title: t(`results.stage.${stage}`), dataIndex: stage, width: 130,
              render: (n: number) => (
                <Flex vertical gap={0}>
                  <Typography.Text>{n.toLocaleString()}</Typography.Text>
                  <Progress percent={Math.round((n / top) * 100)} showInfo={false} size="small" aria-label={t(`results.stage.${stage}`)} />
                </Flex>
              ),
            })),
          ]}
        />
      </Card>
      <Card size="small" title={t('results.exits')}>
        {r.exits.length ? (
          <Table rowKey={(e) => `${e.reason}:${e.stepIndex}`} size="small" pagination={false} dataSource={r.exits}
            columns={[
              { title: t('results.reason'), dataIndex: 'reason', render: (reason: string) => <Tag>{reason}</Tag> },
              { title: t('results.step'), dataIndex: 'stepIndex', render: (i: number) => i + 1 },
              { title: t('results.count'), dataIndex: 'count', align: 'right' },
            ]} />
        ) : <Typography.Text type="secondary">{t('results.noExits')}</Typography.Text>}
      </Card>
      <Card size="small" title={t('results.variants')}>
        {r.variants.length ? r.variants.map((step) => (
          <Table<Variant>
            key={step.stepIndex} rowKey="variant" size="small" pagination={false} dataSource={step.variants} title={() => `${step.stepIndex + 1}. ${step.stepName}`}
            columns={[
              { title: t('results.variant'), dataIndex: 'variant', render: (v: string, row) => <>{v} {row.current && <Tag color="blue">{t('results.current')}</Tag>}</> },
              { title: t('results.trials'), dataIndex: 'done', align: 'right' },
              { title: t('results.responseRate'), dataIndex: 'responseRate', align: 'right', render: (v: number | null) => percent(v) },
              { title: t('results.interval'), dataIndex: 'responseInterval', render: (ci: number[]) => (ci.length === 2 ? `${percent(ci[0])} – ${percent(ci[1])}` : '—') },
              { title: t('results.best'), dataIndex: 'probabilityBestResponse', align: 'right', render: (p: number) => percent(p) },
              { title: t('results.conversionRate'), dataIndex: 'conversionRate', align: 'right', render: (v: number | null) => percent(v) },
              {
                key: 'action', width: 160,
                render: (_, row) => row.current && step.variants.filter((v) => v.current).length > 1 && (
                  <Button size="small" icon={<TrophyOutlined />} loading={winner.isPending}
                    onClick={() => void modal.confirm({
                      title: t('results.makeWinner'), content: t('results.winnerConfirm', { step: step.stepIndex + 1, variant: row.variant }),
                      onOk: () => winner.mutateAsync({ stepIndex: step.stepIndex, variant: row.variant }),
                    })}>
                    {t('results.makeWinner')}
                  </Button>
                ),
              },
            ]}
          />
        )) : <Typography.Text type="secondary">{t('results.noVariants')}</Typography.Text>}
      </Card>
    </Flex>
  );
}
