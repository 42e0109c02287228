import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, AutoComplete, Button, Divider, Empty, Flex, Form, Input, InputNumber, Select, Space, Switch, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { api, call, type Schemas } from '../../api/client';
import { Page } from '../../app/Page';
import { DeleteAction, EditAction } from '../../components/RowActions';
import { applyWordedFieldErrors, listField, refusalText, type ProblemWords } from '../../components/intake-refusals';
import { TagList, TagSelect } from '../../components/TagSelect';
import { addMessages } from '../../i18n';
import { formatDateTime } from '../../lib/time';
import { messages } from './messages';
import { useMessage } from '../../app/feedback';
import { FormDrawer } from '../../components/FormDrawer';

addMessages('response-rules', messages);

type ResponseRule = Schemas['ResponseRuleDto'];
type When = Schemas['ResponseRuleWhenDto'];
type Then = Schemas['ResponseRuleThenDto'];
type Kind = When['kind'];
type Sop = Schemas['SopDto'];
interface FormValues { name: string; enabled: boolean; when: Partial<When>; then: Then }

const KINDS: Kind[] = ['outcome', 'opened', 'replied', 'bought', 'joined', 'joined_group', 'left_group', 'unsubscribed', 'custom'];
const OUTCOMES = ['sent', 'replied', 'interested', 'not_interested', 'bought', 'wrong_contact', 'other'] as const;
/** Conditions that only make sense for one kind (the API refuses them elsewhere). */
const ONLY_FOR: [keyof When, Kind][] = [['outcome', 'outcome'], ['material', 'opened'], ['eventName', 'custom'], ['minAmount', 'bought']];
const TASK_KINDS: Kind[] = ['outcome', 'opened'];

/** The API's problems in the viewer's words (kinds by their names). */
const problemWords = (t: TFunction): ProblemWords => [
  [/^applies only to kind "(.+)"$/, 'problems.onlyFor', (m) => ({ kind: t(`kinds.${m[1]}`) })],
  [/^needs when\.sopId$/, 'problems.needsSop'],
  [/^no such SOP/, 'problems.noSop'],
  [/^the SOP has (\d+) step/, 'problems.steps', (m) => ({ n: m[1] })],
  [/^no such tag$/, 'problems.noTag'],
  [/^is also in then\.removeTagIds$/, 'problems.alsoRemoved'],
  [/^a second tag of the exclusive group "(.+)"$/, 'problems.exclusive', (m) => ({ group: m[1] })],
  [/^add or remove at least one tag$/, 'problems.thenEmpty'],
  [/^weighs added tags/, 'problems.weightNeedsAdd'],
  [/^is already used$/, 'problems.taken'],
];

interface SopStepDef { name: string; content?: { materials?: { title: string }[] } }
const stepsOf = (sop?: Sop) => ((sop?.definition as { steps?: SopStepDef[] } | undefined)?.steps ?? []);

/** The SOPs a rule may name (not archived), for pickers and for naming them in the list. */
function useSops() {
  return useQuery({
    queryKey: ['sops', 'for-rules'],
    queryFn: async () => (await call(api.GET('/api/sops'))).filter((s) => s.status !== 'archived'),
    staleTime: 60_000,
  });
}

/** A rule's body without the conditions its kind does not take, and without empty ones. */
function toBody(v: FormValues) {
  const w = v.when;
  const when: Record<string, unknown> = { kind: w.kind };
  for (const key of ['outcome', 'sopId', 'stepIndex', 'material', 'eventName', 'minAmount'] as const) {
    const value = typeof w[key] === 'string' ? (w[key] as string).trim() : w[key];
    if (value !== undefined && value !== null && value !== '') when[key] = value;
  }
  const then: Then = { addTagIds: v.then.addTagIds ?? [], removeTagIds: v.then.removeTagIds ?? [] };
  if (v.then.weight !== undefined && v.then.weight !== null) then.weight = v.then.weight;
  return { name: v.name.trim(), enabled: v.enabled, when: when as unknown as When, then };
}

/** Response rules: what a customer's response does to their tags. */
export default function ResponseRulesPage() {
  const { t } = useTranslation('response-rules');
  const message = useMessage();
  const queries = useQueryClient();
  const rules = useQuery({ queryKey: ['response-rules'], queryFn: () => call(api.GET('/api/response-rules')) });
  const sops = useSops();
  const [editing, setEditing] = useState<ResponseRule | 'new' | null>(null);
  const refresh = () => void queries.invalidateQueries({ queryKey: ['response-rules'] });
  const remove = useMutation({
    mutationFn: (id: string) => call(api.DELETE('/api/response-rules/{id}', { params: { path: { id } } })),
    onSuccess: () => { message.success(t('deleted')); refresh(); },
    onError: (e) => message.error(refusalText(t, 'response-rules', e)),
  });
  const toggle = useMutation({
    mutationFn: (r: ResponseRule) =>
      call(api.PUT('/api/response-rules/{id}', { params: { path: { id: r.id } }, body: { name: r.name, enabled: !r.enabled, when: r.when, then: r.then } })),
    onSuccess: (r) => { message.success(t(r.enabled ? 'enabledOn' : 'enabledOff', { name: r.name })); refresh(); },
    onError: (e) => message.error(refusalText(t, 'response-rules', e)),
  });
  const sopName = (id: string) => sops.data?.find((s) => s.id === id)?.name ?? id.slice(0, 8);

  return (
    <Page title={t('title')} extra={<Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')}>{t('create')}</Button>}>
      <Typography.Paragraph type="secondary">{t('intro')}</Typography.Paragraph>
      {rules.error && <Alert type="error" showIcon message={refusalText(t, 'response-rules', rules.error)} style={{ marginBottom: 12 }} />}
      <Table<ResponseRule>
        rowKey="id"
        size="middle"
        loading={rules.isPending}
        dataSource={rules.data ?? []}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        scroll={{ x: 1000 }}
        locale={{ emptyText: <Empty description={t('empty')}><Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')}>{t('create')}</Button></Empty> }}
        columns={[
          {
            title: t('columns.enabled'), dataIndex: 'enabled', width: 70,
            filters: [{ text: t('common:yes'), value: true }, { text: t('common:no'), value: false }], onFilter: (v, r) => r.enabled === v,
            render: (on: boolean, r) => <Switch size="small" checked={on} aria-label={`${t('columns.enabled')}: ${r.name}`} loading={toggle.isPending && toggle.variables?.id === r.id} onChange={() => toggle.mutate(r)} />,
          },
          { title: t('columns.name'), dataIndex: 'name', width: 220, sorter: (a, b) => a.name.localeCompare(b.name, 'zh-CN'), render: (name: string, r) => <Typography.Link onClick={() => setEditing(r)}>{name}</Typography.Link> },
          {
            title: t('columns.when'), dataIndex: 'when',
            filters: KINDS.map((k) => ({ text: t(`kinds.${k}`), value: k })), onFilter: (v, r) => r.when.kind === v,
            render: (w: When) => <WhenSummary when={w} sopName={sopName} />,
          },
          { title: t('columns.then'), dataIndex: 'then', width: 280, render: (then: Then) => <ThenSummary then={then} /> },
          { title: t('columns.updatedAt'), dataIndex: 'updatedAt', width: 160, sorter: (a, b) => a.updatedAt.localeCompare(b.updatedAt), render: formatDateTime },
          {
            title: t('columns.actions'), key: 'actions', width: 110, fixed: 'right',
            render: (_, r) => (
              <Space size={0}>
                <EditAction onClick={() => setEditing(r)} />
                <DeleteAction title={t('deleteConfirm', { name: r.name })} effect={t('deleteEffect')} onConfirm={() => remove.mutateAsync(r.id)} />
              </Space>
            ),
          },
        ]}
      />
      {editing && <RuleForm rule={editing === 'new' ? null : editing} sops={sops.data ?? []} onClose={() => setEditing(null)} />}
    </Page>
  );
}

function WhenSummary({ when: w, sopName }: { when: When; sopName(id: string): string }) {
  const { t } = useTranslation('response-rules');
  const parts = [
    w.outcome && t('summary.outcome', { outcome: t(`outcomes.${w.outcome}`) }),
    w.sopId && t('summary.sop', { sop: sopName(w.sopId) }),
    w.stepIndex !== undefined && t('summary.step', { n: w.stepIndex + 1 }),
    w.material && t('summary.material', { material: w.material }),
    w.eventName && t('summary.event', { name: w.eventName }),
    w.minAmount !== undefined && t('summary.minAmount', { amount: w.minAmount }),
  ].filter(Boolean);
  return (
    <>
      <Typography.Text strong>{t(`kinds.${w.kind}`)}</Typography.Text>
      {parts.length > 0 && <Typography.Text type="secondary"> · {parts.join(' · ')}</Typography.Text>}
    </>
  );
}

function ThenSummary({ then }: { then: Then }) {
  const { t } = useTranslation('response-rules');
  return (
    <Flex vertical gap={4}>
      {(then.addTagIds?.length ?? 0) > 0 && (
        <div><Tag color="green" bordered={false}>{t('summary.add')}</Tag><TagList ids={then.addTagIds!} />{then.weight !== undefined && <Typography.Text type="secondary"> · {t('summary.weight', { weight: then.weight })}</Typography.Text>}</div>
      )}
      {(then.removeTagIds?.length ?? 0) > 0 && <div><Tag color="red" bordered={false}>{t('summary.remove')}</Tag><TagList ids={then.removeTagIds!} /></div>}
    </Flex>
  );
}

/** Create or edit a rule: each condition shown only for the responses it applies to; the API's 422 at its field. */
function RuleForm({ rule, sops, onClose }: { rule: ResponseRule | null; sops: Sop[]; onClose(): void }) {
  const { t } = useTranslation('response-rules');
  const message = useMessage();
  const queries = useQueryClient();
  const [form] = Form.useForm<FormValues>();
  const kind = Form.useWatch(['when', 'kind'], form);
  const sopId = Form.useWatch(['when', 'sopId'], form);
  const addTagIds = Form.useWatch(['then', 'addTagIds'], form);
  const [rest, setRest] = useState<string[]>([]);
  const steps = stepsOf(sops.find((s) => s.id === sopId));
  const materials = [...new Set((sopId ? steps : sops.flatMap(stepsOf)).flatMap((s) => s.content?.materials?.map((m) => m.title) ?? []))];
  const save = useMutation({
    mutationFn: (v: FormValues) => {
      const body = toBody(v);
      return rule
        ? call(api.PUT('/api/response-rules/{id}', { params: { path: { id: rule.id } }, body }))
        : call(api.POST('/api/response-rules', { body }));
    },
    onSuccess: () => {
      message.success(t('saved'));
      void queries.invalidateQueries({ queryKey: ['response-rules'] });
      onClose();
    },
    onError: (e) => {
      // A list item's problem shows at its picker; "add or remove at least one tag" at the first picker.
      setRest(applyWordedFieldErrors(form, e, t, problemWords(t), (path) => (path === 'then' ? 'then.addTagIds' : listField(path))));
      message.error(refusalText(t, 'response-rules', e));
    },
  });

  function kindChanged(next: Kind) {
    const clear: Partial<When> = {};
    for (const [field, only] of ONLY_FOR) if (only !== next) clear[field] = undefined as never;
    if (!TASK_KINDS.includes(next)) Object.assign(clear, { sopId: undefined, stepIndex: undefined });
    form.setFieldsValue({ when: { ...form.getFieldValue('when'), ...clear, kind: next } });
  }

  return (
    <FormDrawer title={rule ? t('form.editTitle') : t('form.createTitle')} size={720} saving={save.isPending} onSave={() => form.submit()} onClose={onClose} saveId="save-response-rule">
      <Form<FormValues>
        form={form}
        layout="vertical"
        validateTrigger={['onChange', 'onBlur']}
        initialValues={rule ? { name: rule.name, enabled: rule.enabled, when: rule.when, then: rule.then } : { enabled: true, when: { kind: 'outcome' }, then: { addTagIds: [], removeTagIds: [] } }}
        onFinish={(v) => { setRest([]); save.mutate(v); }}
      >
        <Flex gap={16} align="flex-start">
          <Form.Item name="name" label={t('form.name')} rules={[{ required: true, whitespace: true, message: t('form.nameRequired') }, { max: 200 }]} style={{ flex: 1 }}>
            <Input placeholder={t('form.namePlaceholder')} maxLength={200} />
          </Form.Item>
          <Form.Item name="enabled" label={t('form.enabled')} valuePropName="checked">
            <Switch aria-label={t('form.enabled')} />
          </Form.Item>
        </Flex>

        <Divider titlePlacement="start" style={{ marginTop: 0 }}>{t('form.when')}</Divider>
        <Form.Item name={['when', 'kind']} label={t('form.kind')} rules={[{ required: true, message: t('form.kindRequired') }]} extra={kind ? t(`kindHelp.${kind}`) : undefined}>
          <Select<Kind> aria-label={t('form.kind')} onChange={kindChanged} options={KINDS.map((k) => ({ value: k, label: t(`kinds.${k}`) }))} />
        </Form.Item>
        {kind === 'outcome' && (
          <Form.Item name={['when', 'outcome']} label={t('form.outcome')}>
            <Select aria-label={t('form.outcome')} allowClear placeholder={t('form.anyOutcome')} options={OUTCOMES.map((o) => ({ value: o, label: t(`outcomes.${o}`) }))} />
          </Form.Item>
        )}
        {kind && TASK_KINDS.includes(kind) && (
          <Flex gap={16} wrap>
            <Form.Item name={['when', 'sopId']} label={t('form.sop')} extra={t('form.sopHelp')} style={{ flex: '1 1 260px' }}>
              <Select
                aria-label={t('form.sop')}
                allowClear
                showSearch={{ optionFilterProp: 'label' }}
                placeholder={t('form.anySop')}
                options={sops.map((s) => ({ value: s.id, label: s.name }))}
                onChange={() => form.setFieldValue(['when', 'stepIndex'], undefined)}
              />
            </Form.Item>
            <Form.Item name={['when', 'stepIndex']} label={t('form.step')} style={{ flex: '1 1 200px' }}>
              <Select
                aria-label={t('form.step')}
                allowClear
                disabled={!sopId}
                placeholder={t('form.anyStep')}
                options={steps.map((s, i) => ({ value: i, label: t('form.stepLabel', { n: i + 1, name: s.name }) }))}
              />
            </Form.Item>
          </Flex>
        )}
        {kind === 'opened' && (
          <Form.Item name={['when', 'material']} label={t('form.material')} extra={t('form.materialHelp')} rules={[{ max: 200 }]}>
            <AutoComplete aria-label={t('form.material')} placeholder={t('form.materialPlaceholder')} options={materials.map((m) => ({ value: m }))}
              showSearch={{ filterOption: (input, option) => String(option?.value ?? '').toLowerCase().includes(input.toLowerCase()) }} />
          </Form.Item>
        )}
        {kind === 'custom' && (
          <Form.Item name={['when', 'eventName']} label={t('form.eventName')} extra={t('form.eventNameHelp')} rules={[{ max: 100 }]}>
            <Input placeholder={t('form.eventNamePlaceholder')} maxLength={100} />
          </Form.Item>
        )}
        {kind === 'bought' && (
          <Form.Item name={['when', 'minAmount']} label={t('form.minAmount')} extra={t('form.minAmountHelp')}>
            <InputNumber aria-label={t('form.minAmount')} min={0} precision={2} prefix="¥" style={{ width: 200 }} />
          </Form.Item>
        )}

        <Divider titlePlacement="start">{t('form.then')}</Divider>
        <Form.Item
          name={['then', 'addTagIds']}
          label={t('form.addTagIds')}
          extra={t('form.addHelp')}
          dependencies={[['then', 'removeTagIds']]}
          rules={[
            ({ getFieldValue }) => ({
              validator: async (_, add: string[] = []) => {
                const remove: string[] = getFieldValue(['then', 'removeTagIds']) ?? [];
                if (!add.length && !remove.length) throw new Error(t('form.thenRequired'));
                if (add.some((id) => remove.includes(id))) throw new Error(t('form.both'));
              },
            }),
          ]}
        >
          <TagSelect aria-label={t('form.addTagIds')} />
        </Form.Item>
        <Form.Item name={['then', 'weight']} label={t('form.weight')} extra={t('form.weightHelp')}>
          <InputNumber aria-label={t('form.weight')} min={-999999} max={999999} precision={2} disabled={!addTagIds?.length} style={{ width: 200 }} />
        </Form.Item>
        <Form.Item name={['then', 'removeTagIds']} label={t('form.removeTagIds')}>
          <TagSelect aria-label={t('form.removeTagIds')} />
        </Form.Item>
        {rest.length > 0 && <Alert type="error" showIcon message={t('form.problems')} description={rest.join('\n')} />}
      </Form>
    </FormDrawer>
  );
}
