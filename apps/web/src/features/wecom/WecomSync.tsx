import { SyncOutlined, TeamOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Badge, Button, Card, Space, Table, Tag, Typography } from 'antd';
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call, type Schemas } from '../../api/client';
import { useMessage } from '../../app/feedback';
import { UserSelect } from '../../components/UserSelect';
import { formatDateTime } from '../../lib/time';
import { refusal } from '../admin/admin-shared';

type Run = Schemas['WecomSyncRunDto'];
type Member = Schemas['WecomMemberDto'];
const STATUS_BADGE: Record<Run['status'], 'processing' | 'success' | 'error'> = { running: 'processing', succeeded: 'success', failed: 'error' };
const COUNTS = ['members', 'tags', 'dirtyMembers', 'contactPairs', 'contactsCreated', 'followsGone', 'groups', 'groupsDismissed'] as const;
type Kind = Run['kind'];

/**
 * Starts a full or an incremental sync (or joins the running one; a full sync asked during an incremental one
 * follows it) and shows the latest runs with their kind; polls while one runs.
 */
export function SyncCard() {
  const { t } = useTranslation('wecom');
  const message = useMessage();
  const queries = useQueryClient();
  const runs = useQuery({
    queryKey: ['wecom-sync-runs'],
    queryFn: async () => (await call(api.GET('/api/wecom/sync-runs'))).items,
    refetchInterval: (q) => (q.state.data?.some((r) => r.status === 'running') ? 2000 : false),
  });
  const start = useMutation({
    mutationFn: (kind: Kind) => call(api.POST('/api/wecom/sync', { body: { kind } })),
    onSuccess: (run, kind) => {
      // the answer is the run that does it: an incremental one already running means the full sync waits for it
      message.success(t(run.kind === kind ? (kind === 'full' ? 'sync.started' : 'sync.startedIncremental') : kind === 'full' ? 'sync.queued' : 'sync.started'));
      void queries.invalidateQueries({ queryKey: ['wecom-sync-runs'] });
    },
    onError: (e) => message.error(refusal(e)),
  });
  const running = runs.data?.some((r) => r.status === 'running');
  // during an incremental sync a full one can still be asked for (it follows); during a full one neither
  const fullRunning = runs.data?.some((r) => r.status === 'running' && r.kind === 'full');
  // a run that just ended changed the members and the connection's status
  const wasRunning = useRef(false);
  useEffect(() => {
    if (wasRunning.current && !running) {
      void queries.invalidateQueries({ queryKey: ['wecom-members'] });
      void queries.invalidateQueries({ queryKey: ['wecom-connection'] });
    }
    wasRunning.current = Boolean(running);
  }, [running, queries]);
  return (
    <Card
      title={<Space><SyncOutlined spin={running} />{t('sync.title')}</Space>}
      data-testid="wecom-sync"
      extra={(
        <Space wrap>
          <Button onClick={() => start.mutate('incremental')} loading={start.isPending && start.variables === 'incremental'} disabled={running} data-testid="wecom-sync-incremental">
            {t('sync.incremental')}
          </Button>
          <Button type="primary" onClick={() => start.mutate('full')} loading={(start.isPending && start.variables === 'full') || fullRunning} data-testid="wecom-sync-start">
            {fullRunning ? t('sync.running') : t('sync.start')}
          </Button>
        </Space>
      )}
    >
      <Typography.Paragraph type="secondary">{t('sync.help')}</Typography.Paragraph>
      {runs.isError ? <Alert type="error" showIcon message={refusal(runs.error)} /> : (
        <Table<Run>
          size="small"
          rowKey="id"
          loading={runs.isPending}
          pagination={false}
          dataSource={(runs.data ?? []).slice(0, 5)}
          locale={{ emptyText: t('sync.none') }}
          columns={[
            { title: t('sync.startedAt'), dataIndex: 'startedAt', render: (v: string) => formatDateTime(v) },
            { title: t('sync.kind'), dataIndex: 'kind', render: (k: Kind) => <Tag color={k === 'full' ? 'blue' : undefined}>{t(`sync.kinds.${k}`)}</Tag> },
            { title: t('sync.status'), dataIndex: 'status', render: (s: Run['status']) => <Badge status={STATUS_BADGE[s]} text={t(`sync.statuses.${s}`)} /> },
            {
              title: t('sync.counts'),
              render: (_, r) => (r.error
                ? <Typography.Text type="danger">{r.error}</Typography.Text>
                : COUNTS.filter((k) => r.counts[k] !== undefined).map((k) => `${t(`sync.count.${k}`)} ${r.counts[k]}`).join(' · ')),
            },
          ]}
        />
      )}
    </Card>
  );
}

/** The corporation's members and the user each is; an admin matches one by hand. */
export function MembersCard() {
  const { t } = useTranslation('wecom');
  const message = useMessage();
  const queries = useQueryClient();
  const members = useQuery({ queryKey: ['wecom-members'], queryFn: async () => (await call(api.GET('/api/wecom/members'))).items });
  const match = useMutation({
    mutationFn: ({ wecomUserId, userId }: { wecomUserId: string; userId: string | null }) =>
      call(api.PUT('/api/wecom/members/{wecomUserId}', { params: { path: { wecomUserId } }, body: { userId } })),
    onSuccess: () => {
      message.success(t('members.saved'));
      void queries.invalidateQueries({ queryKey: ['wecom-members'] });
    },
    onError: (e) => message.error(refusal(e)),
  });
  return (
    <Card title={<Space><TeamOutlined />{t('members.title')}</Space>} data-testid="wecom-members">
      <Typography.Paragraph type="secondary">{t('members.help')}</Typography.Paragraph>
      <Table<Member>
        size="small"
        rowKey="wecomUserId"
        loading={members.isPending}
        dataSource={members.data ?? []}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        locale={{ emptyText: t('members.none') }}
        columns={[
          { title: t('members.member'), render: (_, m) => <span>{m.name || m.wecomUserId} <Typography.Text type="secondary">{m.wecomUserId}</Typography.Text>{!m.active && <Tag style={{ marginLeft: 6 }}>{t('members.left')}</Tag>}</span> },
          { title: t('members.email'), dataIndex: 'email', render: (e: string | null) => e ?? <Typography.Text type="secondary">{t('members.noEmail')}</Typography.Text> },
          {
            title: t('members.user'),
            render: (_, m) => (
              <Space>
                <UserSelect
                  style={{ width: 220 }}
                  value={m.userId ?? undefined}
                  placeholder={t('members.pick')}
                  aria-label={t('members.userOf', { name: m.name || m.wecomUserId })}
                  onChange={(userId) => match.mutate({ wecomUserId: m.wecomUserId, userId: userId ?? null })}
                />
                {m.matchedBy && <Tag>{t(`members.by.${m.matchedBy}`)}</Tag>}
              </Space>
            ),
          },
        ]}
      />
    </Card>
  );
}
