import { ArrowDownOutlined, ArrowUpOutlined, DownloadOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Card, Col, DatePicker, Dropdown, Empty, Flex, Row, Segmented, Skeleton, Statistic, Table, Tabs, Typography } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { lazy, Suspense, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { api, call, type Schemas } from '../../api/client';
import { useMessage } from '../../app/feedback';
import { Page } from '../../app/Page';
import { useMe } from '../../auth/session';
import { TeamSelect } from '../../components/UserSelect';
import { addMessages } from '../../i18n';
import { downloadFromApi } from '../../lib/download';
import { errorText } from '../../lib/errors';
import { percent, points } from './format';
import { MeasureTitle } from './MeasureTitle';
import { messages } from './messages';

addMessages('dashboards', messages);

const TrendChart = lazy(() => import('./TrendChart'));
const CutsPanel = lazy(() => import('./CutsPanel'));
const SopResultsTable = lazy(() => import('./SopResultsTable'));

type Measures = Schemas['MeasuresDto'];
type Change = Schemas['ChangeDto'];
type Employee = Schemas['EmployeeRowDto'];
type Granularity = 'day' | 'week';
const RATES = ['completionRate', 'onTimeRate', 'responseRate'] as const;
/** The longest period the API takes (days). */
const MAX_DAYS = 366;

/**
 * How a manager's teams did: cards with the change against the period before, the trend, and who is behind;
 * the figures cut any way (tab "cuts"); for ops and admins, every SOP's results (tab "sops").
 */
export default function DashboardPage() {
  const { t, i18n } = useTranslation('dashboards');
  const me = useMe();
  const message = useMessage();
  const [range, setRange] = useState<[Dayjs, Dayjs]>([dayjs().subtract(29, 'day'), dayjs()]);
  const [granularity, setGranularity] = useState<Granularity>('day');
  const [teamId, setTeamId] = useState<string>();
  const [params, setParams] = useSearchParams();
  const tenantWide = me.role !== 'manager';
  const tabs = tenantWide ? ['overview', 'cuts', 'sops'] : ['overview', 'cuts'];
  const tab = tabs.includes(params.get('tab') ?? '') ? params.get('tab')! : 'overview';
  const query = { from: range[0].format('YYYY-MM-DD'), to: range[1].format('YYYY-MM-DD'), granularity, ...(teamId ? { teamId } : {}) };
  const board = useQuery({ queryKey: ['dashboards', 'teams', query], enabled: tab === 'overview', queryFn: () => call(api.GET('/api/dashboards/teams', { params: { query } })) });
  const people = useQuery({ queryKey: ['dashboards', 'employees', query], enabled: tab === 'overview', queryFn: () => call(api.GET('/api/dashboards/employees', { params: { query } })) });
  const lang = i18n.language === 'en' ? 'en' : 'zh';
  const exportAs = (what: 'teams' | 'employees', format: 'csv' | 'xlsx') => {
    const qs = new URLSearchParams({ ...query, format, lang });
    downloadFromApi(`/api/dashboards/${what}/export?${qs}`, `${what}.${format}`).catch((e) => message.error(errorText(e)));
  };
  const exportMenu = (what: 'teams' | 'employees') => (
    <Dropdown menu={{ items: (['csv', 'xlsx'] as const).map((f) => ({ key: f, label: t(`export.${f}`), onClick: () => exportAs(what, f) })) }}>
      <Button icon={<DownloadOutlined />} data-testid={`export-${what}`}>{t('export.label')}</Button>
    </Dropdown>
  );

  const overview = (
    <>
      {board.error && <Alert type="error" showIcon message={errorText(board.error)} />}
      {board.isPending ? <Skeleton active /> : board.data && (
        board.data.teams.length === 0 ? <Empty description={t('noTeams')} /> : (
          <Flex vertical gap={16}>
            <Row gutter={[16, 16]}>
              {[...RATES, 'overdueNow' as const].map((m) => (
                <Col key={m} xs={12} lg={6}><MeasureCard name={m} current={board.data.current} change={board.data.change} /></Col>
              ))}
            </Row>
            <Card title={t('trend')} size="small">
              <Suspense fallback={<Skeleton active />}><TrendChart points={board.data.trend} /></Suspense>
            </Card>
            {board.data.teams.length > 1 && (
              <Card title={t('teams')} size="small" extra={exportMenu('teams')}>
                <Row gutter={[16, 16]}>
                  {board.data.teams.map((team) => (
                    <Col key={team.teamId} xs={24} md={12} xl={8}>
                      <Card size="small" title={team.teamName} extra={<Typography.Text type="secondary">{t('members', { count: team.members })}</Typography.Text>} data-testid="team-card">
                        <Flex gap={16} wrap>
                          {[...RATES, 'overdueNow' as const].map((m) => <MeasureCard key={m} name={m} current={team.current} change={team.change} bare />)}
                        </Flex>
                      </Card>
                    </Col>
                  ))}
                </Row>
              </Card>
            )}
            <Card title={t('employees')} size="small" extra={exportMenu('employees')}>
              <EmployeesTable rows={people.data?.items ?? []} loading={people.isPending} />
            </Card>
          </Flex>
        )
      )}
    </>
  );

  return (
    <Page
      title={t('title')}
      extra={(
        <Flex gap="small" wrap>
          {me.role !== 'manager' && <TeamSelect allowClear placeholder={t('allTeams')} aria-label={t('team')} style={{ width: 180 }} value={teamId} onChange={setTeamId} />}
          <DatePicker.RangePicker aria-label={t('period')} allowClear={false} value={range} onChange={(v) => v?.[0] && v[1] && setRange([v[0], v[1]])}
            disabledDate={(d, info) => d.isAfter(dayjs(), 'day') || Boolean(info?.from && Math.abs(d.diff(info.from, 'day')) >= MAX_DAYS)} />
          <Segmented<Granularity> value={granularity} onChange={setGranularity} options={(['day', 'week'] as const).map((g) => ({ value: g, label: t(`granularity.${g}`) }))} />
        </Flex>
      )}
    >
      <Tabs activeKey={tab} onChange={(key) => setParams(key === 'overview' ? {} : { tab: key }, { replace: true })} destroyOnHidden
        items={tabs.map((key) => ({
          key, label: t(`tabs.${key}`),
          children: key === 'overview' ? overview : (
            <Suspense fallback={<Skeleton active />}>
              {key === 'cuts'
                ? <CutsPanel from={query.from} to={query.to} granularity={granularity} teamId={teamId} tenantWide={tenantWide} />
                : <SopResultsTable from={query.from} to={query.to} />}
            </Suspense>
          ),
        }))} />
    </Page>
  );
}

function MeasureCard({ name, current, change, bare = false }: { name: (typeof RATES)[number] | 'overdueNow'; current: Measures; change: Change; bare?: boolean }) {
  const { t } = useTranslation('dashboards');
  const rate = name !== 'overdueNow';
  const delta = rate ? change[name] : null;
  const up = (delta ?? 0) >= 0;
  const body = (
    <Statistic
      title={<MeasureTitle measure={name} />}
      value={rate ? percent(current[name]) : current.overdueNow ?? 0}
      valueStyle={name === 'overdueNow' && current.overdueNow ? { color: '#cf1322' } : undefined}
      suffix={delta !== null && delta !== undefined && (
        <Typography.Text style={{ fontSize: 13, color: up ? '#237804' : '#cf1322' }}>
          {up ? <ArrowUpOutlined /> : <ArrowDownOutlined />} {t('vsPrevious', { change: points(delta) })}
        </Typography.Text>
      )}
    />
  );
  return bare ? <div data-measure={name}>{body}</div> : <Card size="small" data-measure={name}>{body}</Card>;
}

function EmployeesTable({ rows, loading }: { rows: Employee[]; loading: boolean }) {
  const { t } = useTranslation('dashboards');
  const rate = (key: 'completionRate' | 'onTimeRate' | 'responseRate') => ({
    title: <MeasureTitle measure={key} label={t(`columns.${key}`)} />, dataIndex: key, width: 110, align: 'right' as const,
    sorter: (a: Employee, b: Employee) => (a[key] ?? -1) - (b[key] ?? -1), render: (v: number | null) => percent(v),
  });
  return (
    <Table<Employee>
      rowKey="userId"
      size="small"
      loading={loading}
      dataSource={rows}
      pagination={{ pageSize: 20, hideOnSinglePage: true }}
      scroll={{ x: 820 }}
      locale={{ emptyText: <Empty description={t('empty')} /> }}
      columns={[
        { title: t('columns.name'), dataIndex: 'name', sorter: (a, b) => a.name.localeCompare(b.name) },
        { title: t('columns.team'), dataIndex: 'teamName', render: (v: string | null) => v ?? '—' },
        { title: t('columns.created'), dataIndex: 'created', width: 80, align: 'right', sorter: (a, b) => a.created - b.created },
        { title: t('columns.done'), dataIndex: 'done', width: 80, align: 'right', sorter: (a, b) => a.done - b.done },
        rate('completionRate'),
        rate('onTimeRate'),
        rate('responseRate'),
        { title: t('columns.expired'), dataIndex: 'expired', width: 80, align: 'right', sorter: (a, b) => a.expired - b.expired },
        {
          title: <MeasureTitle measure="overdueNow" label={t('columns.overdueNow')} />, dataIndex: 'overdueNow', width: 120, align: 'right', defaultSortOrder: 'descend',
          sorter: (a, b) => (a.overdueNow ?? 0) - (b.overdueNow ?? 0),
          render: (v: number | null, row) => (v ? <Link to={`/team?executor=${row.userId}&list=overdue`} data-testid="drill-overdue" aria-label={`${t('drill')}: ${row.name}`}><Typography.Text type="danger" strong>{v}</Typography.Text></Link> : 0),
        },
      ]}
    />
  );
}
