import { useQuery } from '@tanstack/react-query';
import { Alert, Empty, Table, Tag } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, call, type Schemas } from '../../api/client';
import { errorText } from '../../lib/errors';
import { ExportMenu } from './ExportMenu';
import { percent } from './format';
import { MeasureTitle } from './MeasureTitle';

type Row = Schemas['SopResultRowDto'];
const RATES = ['completionRate', 'onTimeRate', 'responseRate', 'conversionRate'] as const;

/** Every SOP with tasks in the period (GET /api/dashboards/sops), for ops and admins; each links to its results card. */
export default function SopResultsTable({ from, to }: { from: string; to: string }) {
  const { t } = useTranslation('dashboards');
  const query = { from, to };
  const list = useQuery({ queryKey: ['dashboards', 'sops', query], queryFn: () => call(api.GET('/api/dashboards/sops', { params: { query } })) });
  const rate = (key: (typeof RATES)[number]) => ({
    key, title: <MeasureTitle measure={key} />, dataIndex: key, width: 116, align: 'right' as const,
    sorter: (a: Row, b: Row) => (a[key] ?? -1) - (b[key] ?? -1), render: (v: number | null) => percent(v),
  });
  if (list.error) return <Alert type="error" showIcon message={errorText(list.error)} />;
  return (
    <Table<Row>
      rowKey="sopId" size="small" loading={list.isPending} dataSource={list.data?.items ?? []} data-testid="sop-results-table"
      title={() => <ExportMenu path="/api/dashboards/sops/export" query={query} name="sop-results" testId="export-sops" />}
      pagination={{ pageSize: 50, hideOnSinglePage: true }} scroll={{ x: 1064 }}
      locale={{ emptyText: <Empty description={t('empty')} /> }}
      columns={[
        {
          key: 'name', title: t('sopTable.name'), dataIndex: 'name', fixed: 'left', width: 200, ellipsis: true, sorter: (a, b) => a.name.localeCompare(b.name),
          render: (name: string, row) => (
            <Link to={`/sops/${row.sopId}#sop-results`} data-testid="sop-results-link">{name}</Link>
          ),
        },
        { key: 'status', title: t('sopTable.status'), dataIndex: 'status', width: 100, render: (s: string) => <Tag>{t(`sopTable.statuses.${s}`, { defaultValue: s })}</Tag> },
        { key: 'created', title: t('cuts.columns.created'), dataIndex: 'created', width: 90, align: 'right', defaultSortOrder: 'descend', sorter: (a, b) => a.created - b.created },
        { key: 'done', title: t('cuts.columns.done'), dataIndex: 'done', width: 90, align: 'right', sorter: (a, b) => a.done - b.done },
        ...RATES.map(rate),
        { key: 'revenue', title: t('cuts.columns.revenue'), dataIndex: 'revenue', width: 120, align: 'right', sorter: (a, b) => a.revenue - b.revenue, render: (v: number) => v.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }) },
      ]}
    />
  );
}
