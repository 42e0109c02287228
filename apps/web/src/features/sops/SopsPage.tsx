import { PlusOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Badge, Button, Card, Empty, Flex, Segmented, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { api, call, type Schemas } from '../../api/client';
import { Page } from '../../app/Page';
import { addMessages } from '../../i18n';
import { messages } from './messages';
import { ACTIONS_BY_STATUS, useLifecycle } from './sop-actions';
import { TEMPLATE_KEYS } from './templates';
import './sops.css';

addMessages('sops', messages);

type SopItem = Schemas['SopListItemDto'];
type Kind = SopItem['kind'];
type Status = SopItem['status'];
const KINDS = ['journey', 'recurring', 'broadcast'] as const;
const STATUSES: Status[] = ['draft', 'active', 'paused', 'archived'];
const STATUS_BADGE: Record<Status, 'default' | 'processing' | 'warning' | 'success'> = { draft: 'default', active: 'processing', paused: 'warning', archived: 'default' };

/** Every SOP with what it is doing now; lifecycle actions by status; new ones start from a template. */
export default function SopsPage() {
  const { t } = useTranslation('sops');
  const navigate = useNavigate();
  const [kind, setKind] = useState<Kind | 'all'>('all');
  const [status, setStatus] = useState<Status | undefined>();
  const sops = useQuery({
    queryKey: ['sops', kind, status ?? null],
    queryFn: () => call(api.GET('/api/sops', { params: { query: { ...(kind !== 'all' ? { kind } : {}), ...(status ? { status } : {}) } } })),
  });
  const { confirmAndRun, holder } = useLifecycle();
  const [choosing, setChoosing] = useState(false);

  return (
    <Page title={t('title')} extra={<Button type="primary" icon={<PlusOutlined />} onClick={() => setChoosing((c) => !c)} data-testid="new-sop">{t('newSop')}</Button>}>
      {holder}
      {choosing && <TemplatePicker onPick={(key) => navigate(key ? `/sops/new?template=${key}` : '/sops/new')} />}
      <Flex gap="middle" wrap align="center" className="sops-filters">
        <Segmented<Kind | 'all'> value={kind} onChange={setKind} options={[{ value: 'all', label: t('filters.all') }, ...KINDS.map((k) => ({ value: k, label: t(`kindShort.${k}`) }))]} />
        <Select<Status> allowClear placeholder={t('filters.status')} aria-label={t('filters.status')} style={{ width: 160 }} value={status} onChange={setStatus}
          options={STATUSES.map((s) => ({ value: s, label: t(`statuses.${s}`) }))} />
      </Flex>
      <Table<SopItem>
        rowKey="id"
        size="middle"
        loading={sops.isPending}
        dataSource={sops.data ?? []}
        locale={{ emptyText: <Empty description={t('empty')} /> }}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        scroll={{ x: 900 }}
        columns={[
          { title: t('columns.name'), dataIndex: 'name', render: (name: string, s) => <Link to={`/sops/${s.id}`}>{name}</Link> },
          { title: t('columns.kind'), dataIndex: 'kind', width: 90, render: (k: Kind) => <Tag>{t(`kindShort.${k}`)}</Tag> },
          { title: t('columns.status'), dataIndex: 'status', width: 100, render: (s: Status) => <Badge status={STATUS_BADGE[s]} text={t(`statuses.${s}`)} /> },
          { title: t('columns.version'), dataIndex: 'currentVersion', width: 70, align: 'right', render: (v: number | null) => (v ? `v${v}` : '—') },
          { title: t('columns.audience'), key: 'audience', width: 90, align: 'right', render: (_, s) => s.summary.audience?.toLocaleString() ?? '—' },
          { title: t('columns.enrollments'), key: 'enrollments', width: 90, align: 'right', render: (_, s) => s.summary.openEnrollments.toLocaleString() },
          { title: t('columns.today'), key: 'today', width: 90, align: 'right', render: (_, s) => s.summary.tasksToday.toLocaleString() },
          {
            title: t('columns.overdue'), key: 'overdue', width: 80, align: 'right',
            render: (_, s) => <Typography.Text type={s.summary.tasksOverdue ? 'danger' : undefined}>{s.summary.tasksOverdue.toLocaleString()}</Typography.Text>,
          },
          {
            title: t('columns.actions'), key: 'actions', width: 170,
            render: (_, s) => (
              <Space size={0} wrap>
                {ACTIONS_BY_STATUS[s.status].map((a) => (
                  <Button key={a} type="link" size="small" danger={a === 'archive'} onClick={() => void confirmAndRun(s, a)} data-testid={`sop-${a}`}>{t(`actions.${a}`)}</Button>
                ))}
              </Space>
            ),
          },
        ]}
      />
    </Page>
  );
}

function TemplatePicker({ onPick }: { onPick(key: string | null): void }) {
  const { t } = useTranslation('sops');
  return (
    <Card size="small" title={t('fromTemplate')} className="sop-templates" data-testid="sop-templates">
      <Flex gap="small" wrap>
        {TEMPLATE_KEYS.map((key) => (
          <button type="button" key={key} className="sop-template" onClick={() => onPick(key)} data-template={key}>
            <Typography.Text strong>{t(`templates.${key}.name`)}</Typography.Text>
            <Typography.Text type="secondary">{t(`templates.${key}.description`)}</Typography.Text>
          </button>
        ))}
        <button type="button" className="sop-template" onClick={() => onPick(null)}>
          <Typography.Text strong>{t('blank')}</Typography.Text>
        </button>
      </Flex>
    </Card>
  );
}
