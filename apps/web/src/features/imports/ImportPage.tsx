import { DownloadOutlined, InboxOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Badge, Button, Card, Col, Empty, Flex, Progress, Row, Statistic, Table, Tag, Typography, Upload } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, call, tokenStore, type ErrorDetail, type Schemas } from '../../api/client';
import { useTagGroups } from '../../api/directory';
import { Page } from '../../app/Page';
import { useSession } from '../../auth/session';
import { addMessages } from '../../i18n';
import { errorText } from '../../lib/errors';
import { formatDateTime } from '../../lib/time';
import { columnText, downloadCsv, estimateRows, IMPORT_COLUMNS, newId, reasonText, sampleRows } from './import-csv';
import { messages } from './messages';
import { useMessage } from '../../app/feedback';

addMessages('imports', messages);

type ImportDto = Schemas['ImportDto'];
type ImportSummary = Schemas['ImportSummaryDto'];
type RowError = Schemas['ImportRowErrorDto'];

/** One import on screen: started here (uploading, then its answer) or opened from the recent list. */
interface Run {
  id: string;
  fileName: string | null;
  /** about how many rows the file holds (0 when unknown: opened from the list) */
  totalRows: number;
  /** the POST's answer once it came */
  result?: ImportDto;
  /** the POST's refusal (a bad header, a cut connection) */
  refusal?: unknown;
  /** the upload started here and has not answered yet */
  uploading: boolean;
  /** share of the file's bytes sent so far (0 to 1) */
  sent: number;
}

const POLL_MS = 1000;
const count = (n: number) => n.toLocaleString('en-US');

/** Contacts from a CSV file: drop it, watch it run, read what was created, updated and refused, and why. */
export default function ImportPage() {
  const { t } = useTranslation('imports');
  const message = useMessage();
  const { me } = useSession();
  const queries = useQueryClient();
  const groups = useTagGroups();
  const [run, setRun] = useState<Run | null>(null);

  // While an import runs its row is read every second (404 until the server has read the first row).
  const progress = useQuery({
    queryKey: ['import', run?.id],
    enabled: Boolean(run && !run.result && !run.refusal),
    queryFn: async () => {
      try {
        return await call(api.GET('/api/imports/{id}', { params: { path: { id: run!.id } } }));
      } catch (e) {
        if (e instanceof ApiError && e.status === 404 && run?.uploading) return null;
        throw e;
      }
    },
    refetchInterval: (query) => (query.state.data?.status && query.state.data.status !== 'running' ? false : POLL_MS),
    retry: false,
  });
  const recent = useQuery({
    queryKey: ['imports'],
    queryFn: () => call(api.GET('/api/imports', { params: { query: { limit: 10 } } })),
    refetchInterval: (query) => (query.state.data?.some((i) => i.status === 'running') ? 3000 : false),
  });

  const busy = Boolean(run?.uploading);
  async function start(file: File) {
    if (busy) return;
    if (!/\.csv$/i.test(file.name) && file.type !== 'text/csv') {
      message.error(t('upload.notCsv'));
      return;
    }
    const id = newId();
    setRun({ id, fileName: file.name, totalRows: 0, uploading: true, sent: 0 });
    void estimateRows(file).then((totalRows) => setRun((r) => (r?.id === id ? { ...r, totalRows } : r)));
    try {
      const result = await upload(file, id, (sent) => setRun((r) => (r?.id === id ? { ...r, sent } : r)));
      setRun((r) => (r?.id === id ? { ...r, result, uploading: false } : r));
      queries.setQueryData(['import', id], result);
    } catch (refusal) {
      setRun((r) => (r?.id === id ? { ...r, refusal, uploading: false } : r));
    } finally {
      void queries.invalidateQueries({ queryKey: ['imports'] });
      void queries.invalidateQueries({ queryKey: ['contacts'] });
    }
  }

  function downloadSample() {
    downloadCsv(t('sampleName'), sampleRows(groups.data ?? [], me?.email ?? null));
  }

  return (
    <Page title={t('title')} extra={<Button icon={<DownloadOutlined />} onClick={downloadSample} data-testid="download-sample">{t('sample')}</Button>}>
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={15}>
          <Flex vertical gap={16}>
            <Card size="small" title={t('upload.title')}>
              <Upload.Dragger
                accept=".csv,text/csv"
                multiple={false}
                showUploadList={false}
                disabled={busy}
                beforeUpload={(file) => {
                  void start(file);
                  return Upload.LIST_IGNORE;
                }}
                data-testid="import-drop"
              >
                <p className="ant-upload-drag-icon"><InboxOutlined /></p>
                <p className="ant-upload-text">{busy ? t('upload.busy') : t('upload.drop')}</p>
                <p className="ant-upload-hint">{t('upload.hint')}</p>
              </Upload.Dragger>
            </Card>
            {run && <RunCard run={run} polled={progress.data ?? undefined} pollError={progress.error} />}
          </Flex>
        </Col>
        <Col xs={24} xl={9}>
          <FormatHelp />
        </Col>
        <Col span={24}>
          <Card size="small" title={t('recent.title')}>
            <Table<ImportSummary>
              rowKey="id"
              size="small"
              loading={recent.isPending}
              dataSource={recent.data ?? []}
              pagination={false}
              locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('recent.empty')} /> }}
              scroll={{ x: 900 }}
              columns={[
                { title: t('recent.at'), dataIndex: 'createdAt', width: 160, render: formatDateTime },
                { title: t('recent.file'), dataIndex: 'fileName', ellipsis: true, render: (name: string | null) => name ?? <Typography.Text type="secondary">{t('recent.unnamed')}</Typography.Text> },
                { title: t('recent.status'), dataIndex: 'status', width: 100, render: (s: ImportSummary['status']) => <StatusTag status={s} /> },
                { title: t('recent.by'), dataIndex: 'createdByName', width: 140, render: (name: string | null) => name ?? t('recent.apiKey') },
                { title: t('counts.processed'), dataIndex: 'processedRows', width: 100, align: 'right', render: count },
                { title: t('counts.created'), dataIndex: 'createdRows', width: 100, align: 'right', render: count },
                { title: t('counts.updated'), dataIndex: 'updatedRows', width: 100, align: 'right', render: count },
                { title: t('counts.failed'), dataIndex: 'errorRows', width: 90, align: 'right', render: (n: number) => (n ? <Typography.Text type="danger">{count(n)}</Typography.Text> : n) },
                {
                  title: '', key: 'view', width: 100,
                  render: (_, i) => (
                    <Button type="link" size="small" disabled={busy} onClick={() => setRun({ id: i.id, fileName: i.fileName, totalRows: 0, uploading: false, sent: 1 })}>
                      {t('recent.view')}
                    </Button>
                  ),
                },
              ]}
            />
          </Card>
        </Col>
      </Row>
    </Page>
  );
}

/**
 * The file as the request body (the browser streams it; the API reads rows as they arrive), with the share of
 * bytes sent; the answer is the finished import. XMLHttpRequest, since fetch reports no upload progress.
 */
function upload(file: File, id: string, onSent: (share: number) => void): Promise<ImportDto> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/imports/contacts?id=${id}&fileName=${encodeURIComponent(file.name.slice(0, 255))}`);
    xhr.setRequestHeader('content-type', 'text/csv');
    const token = tokenStore.get();
    if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (e) => e.lengthComputable && onSent(e.loaded / e.total);
    xhr.onload = () => {
      let body: { code?: string; message?: string; details?: ErrorDetail[]; requestId?: string } = {};
      try {
        body = JSON.parse(xhr.responseText || '{}');
      } catch {
        /* not JSON: a proxy's page */
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as unknown as ImportDto);
      else reject(new ApiError(xhr.status, body.code ?? `HTTP_${xhr.status}`, body.message ?? xhr.statusText, body.details ?? [], body.requestId));
    };
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'network error'));
    xhr.send(file);
  });
}

function StatusTag({ status }: { status: ImportSummary['status'] }) {
  const { t } = useTranslation('imports');
  return <Badge status={status === 'completed' ? 'success' : status === 'failed' ? 'error' : 'processing'} text={t(`status.${status}`)} />;
}

/** How far an import got: a bar, the counts, and each refused row with its reason. */
function RunCard({ run, polled, pollError }: { run: Run; polled?: ImportDto; pollError: unknown }) {
  const { t } = useTranslation('imports');
  const snapshot = run.result ?? polled;
  const refusal = run.refusal;
  const headerProblems = refusal instanceof ApiError && refusal.code === 'CSV_COLUMNS_INVALID' ? refusal.details : [];

  let percent = Math.floor(50 * run.sent);
  let statusText = t('run.uploading', { percent: Math.round(100 * run.sent) });
  let barStatus: 'active' | 'success' | 'exception' | 'normal' = 'active';
  if (snapshot?.status === 'completed') {
    percent = 100;
    barStatus = 'success';
    statusText = snapshot.errorRows ? t('run.completedWithErrors', { count: snapshot.errorRows }) : t('run.completed');
  } else if (snapshot?.status === 'failed' || refusal) {
    barStatus = 'exception';
    percent = snapshot && run.totalRows ? Math.min(99, Math.floor((100 * snapshot.processedRows) / run.totalRows)) : 0;
    statusText = headerProblems.length || !snapshot ? t('run.refused') : t('run.failed');
  } else if (snapshot) {
    // Sending, reading and checking is the first half; writing contacts the second.
    const total = Math.max(run.totalRows, snapshot.processedRows, 1);
    const valid = Math.max(total - snapshot.errorRows, 1);
    const read = Math.max(run.sent, snapshot.processedRows / total);
    percent = Math.min(99, Math.floor(50 * read + 50 * (snapshot.importedRows / valid)));
    statusText = snapshot.importedRows
      ? t('run.merging', { imported: snapshot.importedRows.toLocaleString() })
      : t('run.reading', { processed: snapshot.processedRows.toLocaleString(), total: total.toLocaleString() });
  }

  return (
    <Card size="small" title={<span>{t('run.title')}{run.fileName && <Typography.Text type="secondary"> · {run.fileName}</Typography.Text>}</span>} data-testid="import-run">
      <Progress percent={percent} status={barStatus} data-testid="import-progress" aria-label={t('run.title')} />
      <Typography.Paragraph data-testid="import-status" style={{ marginTop: 4 }} type={barStatus === 'exception' ? 'danger' : undefined}>{statusText}</Typography.Paragraph>
      {refusal !== undefined && (
        <Alert
          type="error"
          showIcon
          style={{ marginBottom: 12 }}
          message={headerProblems.length ? t('run.headerProblems') : errorText(refusal)}
          description={headerProblems.length ? <ul style={{ margin: 0, paddingInlineStart: 20 }}>{headerProblems.map((d) => <li key={d.problem}>{reasonText(t, d.problem)}</li>)}</ul> : undefined}
          data-testid="import-refusal"
        />
      )}
      {snapshot?.status === 'failed' && snapshot.message && <Alert type="error" showIcon style={{ marginBottom: 12 }} message={t('run.failed')} description={snapshot.message} />}
      {pollError !== null && pollError !== undefined && !refusal && <Alert type="warning" showIcon style={{ marginBottom: 12 }} message={errorText(pollError)} />}
      {snapshot && (
        <>
          <Row gutter={16} data-testid="import-counts">
            <Col xs={12} sm={6}><Statistic title={t('counts.processed')} value={snapshot.processedRows} /></Col>
            <Col xs={12} sm={6}><Statistic title={t('counts.created')} value={snapshot.createdRows} data-testid="count-created" /></Col>
            <Col xs={12} sm={6}><Statistic title={t('counts.updated')} value={snapshot.updatedRows} data-testid="count-updated" /></Col>
            <Col xs={12} sm={6}>
              <Statistic title={t('counts.failed')} value={snapshot.errorRows} data-testid="count-failed" valueStyle={snapshot.errorRows ? { color: '#cf1322' } : undefined} />
            </Col>
          </Row>
          {snapshot.status !== 'running' && <RowErrors run={run} snapshot={snapshot} />}
        </>
      )}
    </Card>
  );
}

function RowErrors({ run, snapshot }: { run: Run; snapshot: ImportDto }) {
  const { t } = useTranslation('imports');
  if (!snapshot.errorRows) return <Alert type="success" showIcon style={{ marginTop: 16 }} message={t('errors.none')} />;
  const columns = [...new Set(snapshot.errors.map((e) => e.column))];
  function downloadErrors() {
    const rows = [[t('errors.row'), t('errors.column'), t('errors.reason')], ...snapshot.errors.map((e) => [String(e.row), e.column, reasonText(t, e.reason)])];
    const base = (run.fileName ?? 'import').replace(/\.csv$/i, '');
    downloadCsv(`${base}-${t('errors.fileSuffix')}.csv`, rows);
  }
  return (
    <div style={{ marginTop: 16 }}>
      <Flex justify="space-between" align="center" wrap gap="small" style={{ marginBottom: 8 }}>
        <Typography.Title level={5} style={{ margin: 0 }}>{t('errors.title')}</Typography.Title>
        <Button icon={<DownloadOutlined />} onClick={downloadErrors} data-testid="download-errors">{t('errors.download')}</Button>
      </Flex>
      {snapshot.errorRows > snapshot.errors.length && <Alert type="info" showIcon style={{ marginBottom: 8 }} message={t('errors.truncated', { count: snapshot.errorRows })} />}
      <Table<RowError>
        size="small"
        rowKey={(e) => `${e.row}:${e.column}:${e.reason}`}
        dataSource={snapshot.errors}
        pagination={{ pageSize: 10, hideOnSinglePage: true, showSizeChanger: false }}
        data-testid="import-errors"
        columns={[
          { title: t('errors.row'), dataIndex: 'row', width: 80, sorter: (a, b) => a.row - b.row, defaultSortOrder: 'ascend' },
          {
            title: t('errors.column'), dataIndex: 'column', width: 220, render: (c: string) => columnText(t, c),
            filters: columns.map((c) => ({ text: columnText(t, c), value: c })), onFilter: (value, e) => e.column === value,
          },
          { title: t('errors.reason'), dataIndex: 'reason', render: (r: string) => reasonText(t, r) },
        ]}
      />
    </div>
  );
}

/** What each column means and how to write it. */
function FormatHelp() {
  const { t } = useTranslation('imports');
  const rows = [...IMPORT_COLUMNS, 'attr'].map((c) => ({ column: c === 'attr' ? 'attr.<…>' : c, key: c }));
  return (
    <Card size="small" title={t('help.title')} data-testid="import-help">
      <Typography.Paragraph>{t('help.intro')}</Typography.Paragraph>
      <Alert type="info" showIcon message={t('help.encoding')} style={{ marginBottom: 12 }} />
      <Table
        size="small"
        rowKey="key"
        pagination={false}
        dataSource={rows}
        columns={[
          {
            title: t('help.column'), dataIndex: 'column', width: 170,
            render: (c: string, r) => (
              <Flex vertical gap={2} align="flex-start">
                <Typography.Text code style={{ whiteSpace: 'nowrap' }}>{c}</Typography.Text>
                {r.key === 'external_id' && <Tag color="red">{t('help.required')}</Tag>}
              </Flex>
            ),
          },
          {
            title: t('help.meaning'), dataIndex: 'key',
            render: (k: string) => (
              <>
                <Typography.Text strong>{t(`columns.${k}.label`)}</Typography.Text>
                <br />
                <Typography.Text type="secondary">{t(`columns.${k}.help`)}</Typography.Text>
              </>
            ),
          },
        ]}
      />
    </Card>
  );
}
