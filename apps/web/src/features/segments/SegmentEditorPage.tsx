import { DownloadOutlined } from '@ant-design/icons';
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Card, Col, Empty, Form, Input, Row, Skeleton, Spin, Statistic, Table, Tooltip, Typography } from 'antd';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate, useParams } from 'react-router';
import { api, ApiError, call, tokenStore, type ErrorDetail, type Schemas } from '../../api/client';
import { Page } from '../../app/Page';
import { addMessages } from '../../i18n';
import { applyFieldErrors, errorText } from '../../lib/errors';
import { messages } from './messages';
import { RuleEditor } from './RuleEditor';
import { ruleProblemText } from './rule-problems';
import { isComplete, newPredicate, type Rule } from './rule-model';
import './segments.css';
import { useMessage } from '../../app/feedback';

addMessages('segments', messages);

type Member = Schemas['MemberDto'];
const DEBOUNCE_MS = 250;

/** Builds a segment's rule with its live count and first members; saves it; lists and exports its members. */
export default function SegmentEditorPage() {
  const { id } = useParams();
  const isNew = id === 'new';
  const { t } = useTranslation('segments');
  const segment = useQuery({
    queryKey: ['segment', id],
    enabled: !isNew,
    queryFn: () => call(api.GET('/api/segments/{id}', { params: { path: { id: id! } } })),
  });
  if (!isNew && !segment.data) {
    return <Page title={t('editTitle')}>{segment.error ? <Alert type="error" message={errorText(segment.error)} /> : <Skeleton active />}</Page>;
  }
  return <SegmentEditor key={id} id={isNew ? null : id!} initial={segment.data} />;
}

function SegmentEditor({ id, initial }: { id: string | null; initial?: Schemas['SegmentDto'] }) {
  const { t } = useTranslation('segments');
  const message = useMessage();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [form] = Form.useForm<{ name: string; description?: string }>();
  const [rule, setRule] = useState<Rule>((initial?.rule as Rule) ?? { all: [newPredicate('tag')] });
  const [saveProblems, setSaveProblems] = useState<ErrorDetail[]>([]);
  const [saving, setSaving] = useState(false);
  const preview = useLivePreview(rule);
  const problems = saveProblems.length ? saveProblems : preview.problems;

  async function save(values: { name: string; description?: string }) {
    setSaving(true);
    setSaveProblems([]);
    try {
      const body = { name: values.name.trim(), description: values.description?.trim() ?? '', rule };
      const saved = id
        ? await call(api.PATCH('/api/segments/{id}', { params: { path: { id } }, body }))
        : await call(api.POST('/api/segments', { body }));
      message.success(t('saved'));
      void queries.invalidateQueries({ queryKey: ['segments'] });
      void queries.invalidateQueries({ queryKey: ['segment', saved.id] });
      if (!id) navigate(`/segments/${saved.id}`, { replace: true });
    } catch (e) {
      applyFieldErrors(form, e);
      if (e instanceof ApiError) setSaveProblems(e.details.filter((d) => d.path.startsWith('rule')));
      message.error(errorText(e));
    } finally {
      setSaving(false);
    }
  }

  return (
    <Page title={id ? initial?.name ?? t('editTitle') : t('newTitle')}
      extra={<Button type="primary" loading={saving} onClick={() => form.submit()} data-testid="save-segment">{t('common:actions.save')}</Button>}>
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={15}>
          <Card size="small">
            <Form form={form} layout="vertical" initialValues={{ name: initial?.name, description: initial?.description }} onFinish={(v) => void save(v)}>
              <Form.Item name="name" label={t('form.name')} rules={[{ required: true, whitespace: true, message: t('form.nameRequired') }, { max: 200 }]}>
                <Input maxLength={200} />
              </Form.Item>
              <Form.Item name="description" label={t('form.description')}>
                <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} maxLength={2000} />
              </Form.Item>
              <Form.Item label={t('form.rule')} required>
                <RuleEditor value={rule} onChange={(r) => { setRule(r); setSaveProblems([]); }} problems={problems} />
              </Form.Item>
            </Form>
          </Card>
        </Col>
        <Col xs={24} xl={9}>
          <PreviewCard state={preview} />
        </Col>
        {id && (
          <Col span={24}>
            <Members id={id} />
          </Col>
        )}
      </Row>
    </Page>
  );
}

interface PreviewState {
  complete: boolean;
  pending: boolean;
  count?: number;
  /** the count is estimated from a sample (a large organization), within ± margin */
  estimate?: { margin: number };
  sample?: Member[];
  problems: ErrorDetail[];
  error?: unknown;
}

/**
 * The count and first members of the rule being edited, asked a moment after the last edit; answers to older
 * versions of the rule are never shown (each version is its own query). Marks `segment:count` when a fresh
 * count is on screen (the console bench measures from the last edit to it).
 */
function useLivePreview(rule: Rule): PreviewState {
  const complete = isComplete(rule);
  const [debounced, setDebounced] = useState(rule);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(rule), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [rule]);
  const key = useMemo(() => JSON.stringify(debounced), [debounced]);
  const settled = key === JSON.stringify(rule);
  const answer = useQuery({
    queryKey: ['segment-preview', key],
    enabled: complete && isComplete(debounced),
    queryFn: ({ signal }) => call(api.POST('/api/segments/preview', { body: { rule: debounced }, signal })),
    retry: false,
    staleTime: 30_000,
  });
  const fresh = settled && answer.isSuccess && !answer.isFetching;
  useEffect(() => {
    if (fresh) performance.mark('segment:count', { detail: key });
  }, [fresh, key, answer.dataUpdatedAt]);
  const problems = answer.error instanceof ApiError ? answer.error.details : [];
  return {
    complete,
    pending: complete && (!settled || answer.isFetching),
    count: answer.data?.count,
    estimate: answer.data?.estimated ? { margin: answer.data.margin } : undefined,
    sample: answer.data?.sample,
    problems,
    error: answer.error && !problems.length ? answer.error : undefined,
  };
}

function PreviewCard({ state }: { state: PreviewState }) {
  const { t } = useTranslation('segments');
  return (
    <Card size="small" title={t('preview.title')} className="segment-preview">
      {!state.complete ? (
        <Alert type="info" showIcon message={t('preview.incomplete')} />
      ) : (
        <>
          <Spin spinning={state.pending} size="small">
            <Statistic title={t('preview.count')} value={state.count ?? '—'} data-testid="segment-count" groupSeparator=","
              prefix={state.estimate && <span className="segment-count-about" data-testid="segment-count-about">{t('preview.about')}</span>} />
            {state.estimate && (
              <Tooltip title={t('preview.estimateHelp')}>
                <Typography.Text type="secondary" data-testid="segment-count-estimate">
                  {t('preview.estimate', { margin: state.estimate.margin.toLocaleString('en-US') })}
                </Typography.Text>
              </Tooltip>
            )}
          </Spin>
          {state.problems.length > 0 && <Alert type="error" showIcon message={t('problems')} description={state.problems.map((p) => ruleProblemText(t, p.problem)).join('\n')} style={{ marginTop: 12, whiteSpace: 'pre-line' }} />}
          {state.error !== undefined && <Alert type="error" showIcon message={errorText(state.error)} style={{ marginTop: 12 }} />}
          {state.sample && (
            <Table<Member> size="small" rowKey="id" style={{ marginTop: 12 }} pagination={false} dataSource={state.sample.slice(0, 10)}
              title={() => t(state.estimate ? 'preview.some' : 'preview.first', { n: Math.min(10, state.sample!.length) })} locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('preview.none')} /> }}
              columns={[{ title: t('preview.name'), dataIndex: 'name' }, { title: t('preview.externalId'), dataIndex: 'externalId' }]} />
          )}
        </>
      )}
    </Card>
  );
}

function Members({ id }: { id: string }) {
  const { t } = useTranslation('segments');
  const message = useMessage();
  const [exporting, setExporting] = useState(false);
  const pages = useInfiniteQuery({
    queryKey: ['segment-members', id],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => call(api.GET('/api/segments/{id}/members', { params: { path: { id }, query: { limit: 50, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (page) => page.nextCursor ?? undefined,
  });
  async function exportCsv() {
    setExporting(true);
    try {
      // The export needs the bearer token, which a plain link cannot send: fetch it, then hand the file over.
      const res = await fetch(`/api/segments/${id}/export.csv`, { headers: { authorization: `Bearer ${tokenStore.get()}` } });
      if (!res.ok) throw new ApiError(res.status, `HTTP_${res.status}`, res.statusText);
      const name = /filename="?([^";]+)"?/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? `segment-${id}.csv`;
      const link = Object.assign(document.createElement('a'), { href: URL.createObjectURL(await res.blob()), download: name });
      link.click();
      URL.revokeObjectURL(link.href);
    } catch (e) {
      message.error(errorText(e));
    } finally {
      setExporting(false);
    }
  }
  const members = pages.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Card size="small" title={t('members.title')} extra={<Button icon={<DownloadOutlined />} loading={exporting} onClick={() => void exportCsv()} data-testid="export-csv">{t('members.export')}</Button>}>
      <Table<Member> size="small" rowKey="id" loading={pages.isPending} dataSource={members} pagination={false}
        columns={[{ title: t('preview.name'), dataIndex: 'name' }, { title: t('preview.externalId'), dataIndex: 'externalId' }]} />
      {pages.hasNextPage && <Button block style={{ marginTop: 8 }} loading={pages.isFetchingNextPage} onClick={() => void pages.fetchNextPage()}>{t('members.loadMore')}</Button>}
    </Card>
  );
}
