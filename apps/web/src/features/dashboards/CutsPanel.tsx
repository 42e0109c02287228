import { useQuery } from '@tanstack/react-query';
import { Alert, Card, Empty, Flex, Select, Skeleton, Table, Typography } from 'antd';
import { lazy, Suspense, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call, type Schemas } from '../../api/client';
import { errorText } from '../../lib/errors';
import { ExportMenu } from './ExportMenu';
import { percent } from './format';
import { MeasureTitle } from './MeasureTitle';

const TrendChart = lazy(() => import('./TrendChart'));
const CutsChart = lazy(() => import('./CutsChart'));

type Row = Schemas['CutRowDto'];
type Granularity = 'day' | 'week';
const TEAM_DIMENSIONS = ['team', 'employee', 'time'] as const;
const SOP_DIMENSIONS = ['sop', 'version', 'step', 'variant', 'channel'] as const;
export type Dimension = (typeof TEAM_DIMENSIONS)[number] | (typeof SOP_DIMENSIONS)[number];
const RATES = ['completionRate', 'onTimeRate', 'responseRate', 'conversionRate'] as const;
type Count = 'created' | 'done' | 'expired' | 'overdueNow' | 'purchases' | 'revenue';

/**
 * The figures cut one way (GET /api/dashboards/cuts): by team, employee, SOP, version, step, variant or
 * channel, or over time by the period's day or week; a chart and a table, both exportable. Managers get the
 * team cuts of their teams (the API scopes them), ops and admins the organization and the SOP cuts.
 */
export default function CutsPanel({ from, to, granularity, teamId, tenantWide }: {
  from: string; to: string; granularity: Granularity; teamId?: string; tenantWide: boolean;
}) {
  const { t } = useTranslation('dashboards');
  const [dimension, setDimension] = useState<Dimension>('employee');
  const [sopId, setSopId] = useState<string>();
  const sops = useQuery({ queryKey: ['sops', 'all'], enabled: tenantWide, queryFn: () => call(api.GET('/api/sops')) });
  const bySop = (SOP_DIMENSIONS as readonly string[]).includes(dimension) || (dimension === 'time' && Boolean(sopId));
  const by = dimension === 'time' ? granularity : dimension;
  // a SOP filter goes with SOP cuts (and time), a team filter with team cuts: the API takes one or the other
  const query = {
    from, to, by, ...(bySop && sopId ? { sopId } : {}), ...(!bySop && teamId ? { teamId } : {}),
  };
  const cut = useQuery({ queryKey: ['dashboards', 'cuts', query], queryFn: () => call(api.GET('/api/dashboards/cuts', { params: { query } })) });
  const dimensions = tenantWide ? [...TEAM_DIMENSIONS, ...SOP_DIMENSIONS] : TEAM_DIMENSIONS;
  const time = dimension === 'time';
  const points = useMemo(() => (cut.data?.rows ?? []).map((r) => ({ period: r.key, measures: r })), [cut.data]);

  return (
    <Flex vertical gap={16} data-testid="cuts">
      <Flex gap="small" wrap align="center">
        <Typography.Text>{t('cuts.by')}</Typography.Text>
        <Select<Dimension> aria-label={t('cuts.by')} data-testid="cut-dimension" style={{ width: 160 }} value={dimension} onChange={setDimension}
          options={dimensions.map((d) => ({ value: d, label: t(`cuts.dimensions.${d}`) }))} />
        {tenantWide && (bySop || time) && (
          <Select<string> allowClear showSearch={{ optionFilterProp: 'label' }} aria-label={t('cuts.sop')} placeholder={t('cuts.allSops')} style={{ width: 220 }}
            data-testid="cut-sop" value={sopId} onChange={setSopId} loading={sops.isLoading}
            options={(sops.data ?? []).map((s) => ({ value: s.id, label: s.name }))} />
        )}
        {time && <Typography.Text type="secondary">{t(`granularity.${granularity}`)}</Typography.Text>}
      </Flex>
      {cut.error && <Alert type="error" showIcon message={errorText(cut.error)} />}
      {cut.isPending ? <Skeleton active /> : cut.data && (
        <>
          <Card size="small" title={t('cuts.chart')}>
            <Suspense fallback={<Skeleton active />}>
              {time ? <TrendChart points={points} /> : <CutsChart rows={cut.data.rows} />}
            </Suspense>
          </Card>
          <Card size="small" title={`${t(`cuts.dimensions.${dimension}`)} · ${cut.data.range.from} – ${cut.data.range.to}`}
            extra={<ExportMenu path="/api/dashboards/cuts/export" query={query} name={`cuts-${by}`} testId="export-cuts" />}>
            <CutsTable rows={cut.data.rows} dimension={dimension} />
          </Card>
        </>
      )}
    </Flex>
  );
}

function CutsTable({ rows, dimension }: { rows: Row[]; dimension: Dimension }) {
  const { t } = useTranslation('dashboards');
  const number = (key: Count) => ({
    key, title: t(`cuts.columns.${key}`), dataIndex: key, width: 90, align: 'right' as const,
    sorter: (a: Row, b: Row) => (a[key] ?? 0) - (b[key] ?? 0), render: (v: number | null) => (v === null ? '—' : v.toLocaleString()),
  });
  const rate = (key: (typeof RATES)[number]) => ({
    key, title: <MeasureTitle measure={key} />, dataIndex: key, width: 124, align: 'right' as const,
    sorter: (a: Row, b: Row) => (a[key] ?? -1) - (b[key] ?? -1), render: (v: number | null) => percent(v),
  });
  return (
    <Table<Row>
      rowKey="key" size="small" dataSource={rows} data-testid="cuts-table"
      pagination={{ pageSize: 50, hideOnSinglePage: true }} scroll={{ x: 1100 }}
      locale={{ emptyText: <Empty description={t('empty')} /> }}
      columns={[
        { key: 'label', title: t(`cuts.dimensions.${dimension}`), dataIndex: 'label', fixed: 'left', width: 220,
          sorter: (a, b) => a.label.localeCompare(b.label), render: (v: string) => v || '—' },
        number('created'), number('done'), ...RATES.map(rate), number('expired'), { ...number('overdueNow'), title: <MeasureTitle measure="overdueNow" label={t('cuts.columns.overdueNow')} />, width: 110 },
        { key: 'median', title: t('cuts.columns.medianMinutesToDone'), dataIndex: 'medianMinutesToDone', width: 110, align: 'right' as const,
          sorter: (a, b) => (a.medianMinutesToDone ?? -1) - (b.medianMinutesToDone ?? -1), render: (v: number | null) => (v === null ? '—' : Math.round(v)) },
        number('purchases'), number('revenue'),
      ]}
    />
  );
}
