import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Card, Empty, Flex, Form, Input, Select, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, call, type ErrorDetail, type Schemas } from '../../api/client';
import { useTagGroups, useTagIndex } from '../../api/directory';
import type { TagGroup } from '../../api/models';
import { Page } from '../../app/Page';
import { DeleteAction, EditAction } from '../../components/RowActions';
import { applyWordedFieldErrors, refusalText, type ProblemWords } from '../../components/intake-refusals';
import { tagStyle } from '../../components/TagSelect';
import { addMessages } from '../../i18n';
import { messages as segmentTexts } from '../segments/messages';
import { RuleEditor } from '../segments/RuleEditor';
import { isComplete, type Rule } from '../segments/rule-model';
import '../segments/segments.css';
import { messages } from './messages';
import { describeRule } from './rule-summary';
import { useMessage } from '../../app/feedback';
import { FormDrawer } from '../../components/FormDrawer';

addMessages('computed-tags', messages);
addMessages('segments', segmentTexts); // the condition editor's words

type ComputedRule = Schemas['ComputedTagRuleDto'];
interface CaseValues { tagId?: string; when: Rule }
interface FormValues { name: string; groupId?: string; cases: CaseValues[] }

const PROBLEMS: ProblemWords = [
  [/^must be an exclusive group/, 'problems.notExclusive'],
  [/^no such tag group$/, 'problems.noGroup'],
  [/^must be a tag of the rule's group$/, 'problems.notInGroup'],
  [/^already has a rule$/, 'problems.hasRule'],
];
const metric = (name: string, op: string, value: number): Rule => ({ metric: { name, op, value } });
const since = (op: string, days: number): Rule => ({ daysSince: { field: 'lastOrder', op, days } });
/** Conditions for a group's tags in their order: the first that holds wins, so the strictest comes first. */
const TEMPLATES: Record<string, Rule[]> = {
  spend30d: [{ all: [metric('spend30d', 'gte', 1000)] }, { all: [metric('spend30d', 'gte', 300)] }, { all: [metric('spend30d', 'gt', 0)] }],
  totalSpend: [{ all: [metric('totalSpend', 'gte', 5000)] }, { all: [metric('totalSpend', 'gte', 1000)] }, { all: [metric('totalSpend', 'gt', 0)] }],
  lifecycle: [
    { all: [metric('orderCount', 'gte', 2), since('lt', 90)] },
    { all: [metric('orderCount', 'gte', 1), since('lt', 180)] },
    { all: [metric('orderCount', 'gte', 1), since('gte', 180)] },
    { all: [metric('orderCount', 'eq', 0)] },
  ],
};
const newCase = (): CaseValues => ({ when: { all: [metric('spend30d', 'gte', 1000)] } });

/** Rules that keep an exclusive tag group in line with customers' data (spend tiers, RFM, lifecycle). */
export default function ComputedTagsPage() {
  const { t } = useTranslation('computed-tags');
  const message = useMessage();
  const queries = useQueryClient();
  const rules = useQuery({ queryKey: ['computed-tags'], queryFn: () => call(api.GET('/api/computed-tags')) });
  const groups = useTagGroups();
  const { index } = useTagIndex();
  const [editing, setEditing] = useState<ComputedRule | 'new' | null>(null);
  const remove = useMutation({
    mutationFn: (id: string) => call(api.DELETE('/api/computed-tags/{id}', { params: { path: { id } } })),
    onSuccess: () => {
      message.success(t('deleted'));
      void queries.invalidateQueries({ queryKey: ['computed-tags'] });
    },
    onError: (e) => message.error(refusalText(t, 'computed-tags', e)),
  });
  const groupName = (id: string) => groups.data?.find((g) => g.id === id)?.name ?? '—';
  const tagName = (id: string) => index.get(id)?.name ?? '?';

  return (
    <Page title={t('title')} extra={<Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')}>{t('create')}</Button>}>
      <Typography.Paragraph type="secondary">{t('intro')}</Typography.Paragraph>
      {rules.error && <Alert type="error" showIcon message={refusalText(t, 'computed-tags', rules.error)} style={{ marginBottom: 12 }} />}
      <Table<ComputedRule>
        rowKey="id"
        size="middle"
        loading={rules.isPending}
        dataSource={rules.data ?? []}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        scroll={{ x: 900 }}
        locale={{ emptyText: <Empty description={t('empty')}><Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')}>{t('create')}</Button></Empty> }}
        columns={[
          { title: t('columns.name'), dataIndex: 'name', width: 220, sorter: (a, b) => a.name.localeCompare(b.name, 'zh-CN'), render: (name: string, r) => <Typography.Link onClick={() => setEditing(r)}>{name}</Typography.Link> },
          { title: t('columns.group'), dataIndex: 'groupId', width: 180, render: groupName },
          {
            title: t('columns.cases'), dataIndex: 'cases',
            render: (cases: ComputedRule['cases']) => (
              <ol className="computed-cases" style={{ margin: 0, paddingInlineStart: 20 }}>
                {cases.map((c, i) => (
                  <li key={i}>
                    <Tag style={{ ...tagStyle(index.get(c.tagId)?.color), marginInlineEnd: 8 }}>{tagName(c.tagId)}</Tag>
                    <Typography.Text>{describeRule(c.when as Rule, t, tagName)}</Typography.Text>
                  </li>
                ))}
                <li style={{ listStyle: 'none', marginInlineStart: -20 }}><Typography.Text type="secondary">{t('otherwise')}</Typography.Text></li>
              </ol>
            ),
          },
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
      {editing && <RuleForm rule={editing === 'new' ? null : editing} taken={(rules.data ?? []).map((r) => r.groupId)} groups={groups.data ?? []} onClose={() => setEditing(null)} />}
    </Page>
  );
}

/** Builds a rule's tiers without JSON: per tier a tag of the group and its conditions in the segment editor. */
function RuleForm({ rule, taken, groups, onClose }: { rule: ComputedRule | null; taken: string[]; groups: TagGroup[]; onClose(): void }) {
  const { t } = useTranslation('computed-tags');
  const message = useMessage();
  const queries = useQueryClient();
  const [form] = Form.useForm<FormValues>();
  const groupId = Form.useWatch('groupId', form);
  const group = groups.find((g) => g.id === groupId);
  const [ruleProblems, setRuleProblems] = useState<ErrorDetail[]>([]);
  const [rest, setRest] = useState<string[]>([]);
  const save = useMutation({
    mutationFn: (v: FormValues) => {
      const body = { name: v.name.trim(), groupId: v.groupId!, cases: v.cases.map((c) => ({ tagId: c.tagId!, when: c.when })) };
      return rule
        ? call(api.PUT('/api/computed-tags/{id}', { params: { path: { id: rule.id } }, body }))
        : call(api.POST('/api/computed-tags', { body }));
    },
    onSuccess: (saved) => {
      message.success(t('saved', { count: saved.changedContacts ?? 0 }));
      void queries.invalidateQueries({ queryKey: ['computed-tags'] });
      void queries.invalidateQueries({ queryKey: ['contacts'] });
      onClose();
    },
    onError: (e) => {
      const inRules = e instanceof ApiError ? e.details.filter((d) => /^cases\[\d+\]\.when\./.test(d.path)) : [];
      setRuleProblems(inRules);
      const others = applyWordedFieldErrors(form, e, t, PROBLEMS).filter((p) => !/^cases\[\d+\]\.when\./.test(p));
      setRest(others);
      message.error(refusalText(t, 'computed-tags', e));
    },
  });
  const problemsOf = (i: number) =>
    ruleProblems.filter((p) => p.path.startsWith(`cases[${i}].when.`)).map((p) => ({ ...p, path: p.path.replace(`cases[${i}].when`, 'rule') }));

  function applyTemplate(name: string) {
    const tags = group?.tags ?? [];
    const whens = TEMPLATES[name];
    const count = Math.max(1, Math.min(tags.length || whens.length, whens.length));
    form.setFieldValue('cases', whens.slice(0, count).map((when, i) => ({ tagId: tags[i]?.id, when })));
    setRuleProblems([]);
  }

  const exclusive = groups.filter((g) => g.exclusive);
  return (
    <FormDrawer title={rule ? t('form.editTitle') : t('form.createTitle')} size={960} saving={save.isPending} onSave={() => form.submit()} onClose={onClose} saveId="save-computed">
      <Form<FormValues>
        form={form}
        layout="vertical"
        validateTrigger={['onChange', 'onBlur']}
        initialValues={rule ? { name: rule.name, groupId: rule.groupId, cases: rule.cases.map((c) => ({ tagId: c.tagId, when: c.when as Rule })) } : { cases: [newCase()] }}
        onFinish={(v) => { setRest([]); setRuleProblems([]); save.mutate(v); }}
        onValuesChange={(changed: Partial<FormValues>) => {
          if ('groupId' in changed) form.setFieldValue('cases', (form.getFieldValue('cases') as CaseValues[]).map((c) => ({ ...c, tagId: undefined })));
        }}
      >
        <Flex gap={16} wrap>
          <Form.Item name="name" label={t('form.name')} rules={[{ required: true, whitespace: true, message: t('form.nameRequired') }, { max: 200 }]} style={{ flex: '1 1 280px' }}>
            <Input placeholder={t('form.namePlaceholder')} maxLength={200} />
          </Form.Item>
          <Form.Item name="groupId" label={t('form.group')} extra={t('form.groupHelp')} rules={[{ required: true, message: t('form.groupRequired') }]} style={{ flex: '1 1 280px' }}>
            <Select
              placeholder={t('form.groupPlaceholder')}
              showSearch={{ optionFilterProp: 'label' }}
              notFoundContent={<Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('form.noExclusive')} />}
              options={[...exclusive, ...groups.filter((g) => !g.exclusive)].map((g) => {
                const hasRule = taken.includes(g.id) && g.id !== rule?.groupId;
                return {
                  value: g.id,
                  label: g.exclusive ? (hasRule ? `${g.name}（${t('form.hasRule')}）` : g.name) : `${g.name}（${t('form.notExclusive')}）`,
                  disabled: !g.exclusive || hasRule,
                };
              })}
            />
          </Form.Item>
        </Flex>
        <Flex justify="space-between" align="baseline" wrap gap="small">
          <Typography.Title level={5} style={{ margin: 0 }}>{t('form.cases')}</Typography.Title>
          <Space wrap size={4}>
            <Typography.Text type="secondary">{t('form.template')}:</Typography.Text>
            {Object.keys(TEMPLATES).map((name) => (
              <Button key={name} size="small" onClick={() => applyTemplate(name)} disabled={!group}>{t(`form.templates.${name}`)}</Button>
            ))}
          </Space>
        </Flex>
        <Typography.Paragraph type="secondary" style={{ marginTop: 4 }}>{t('form.casesHelp')}</Typography.Paragraph>
        <Form.List name="cases" rules={[{ validator: async (_, cases: CaseValues[]) => { if (!cases?.length) throw new Error(t('form.casesRequired')); } }]}>
          {(fields, { add, remove, move }, { errors }) => (
            <Flex vertical gap={12}>
              {fields.map((field, i) => (
                <Card
                  key={field.key}
                  size="small"
                  title={t('form.case', { n: i + 1 })}
                  data-testid={`case-${i}`}
                  extra={(
                    <Space size={0}>
                      <Tooltip title={t('form.moveUp')}><Button type="text" size="small" icon={<ArrowUpOutlined />} aria-label={t('form.moveUp')} disabled={i === 0} onClick={() => move(i, i - 1)} /></Tooltip>
                      <Tooltip title={t('form.moveDown')}><Button type="text" size="small" icon={<ArrowDownOutlined />} aria-label={t('form.moveDown')} disabled={i === fields.length - 1} onClick={() => move(i, i + 1)} /></Tooltip>
                      <Tooltip title={t('form.removeCase')}><Button type="text" size="small" danger icon={<DeleteOutlined />} aria-label={t('form.removeCase')} disabled={fields.length === 1} onClick={() => remove(i)} /></Tooltip>
                    </Space>
                  )}
                >
                  <Form.Item name={[field.name, 'tagId']} label={t('form.tag')} layout="horizontal" rules={[{ required: true, message: t('form.tagRequired') }]} style={{ maxWidth: 420, marginBottom: 12 }}>
                    <Select
                      aria-label={t('form.tag')}
                      placeholder={group ? t('form.tagPlaceholder') : t('form.pickGroupFirst')}
                      disabled={!group}
                      options={(group?.tags ?? []).map((tag) => ({ value: tag.id, label: <Tag style={tagStyle(tag.color)}>{tag.name}</Tag>, title: tag.name }))}
                    />
                  </Form.Item>
                  <Form.Item
                    name={[field.name, 'when']}
                    label={t('form.when')}
                    layout="horizontal"
                    rules={[{ validator: async (_, when: Rule) => { if (!when || !isComplete(when)) throw new Error(t('form.whenIncomplete')); } }]}
                    style={{ marginBottom: 0 }}
                  >
                    <CaseRule problems={problemsOf(i)} />
                  </Form.Item>
                </Card>
              ))}
              <Form.ErrorList errors={errors} />
              <Button type="dashed" icon={<PlusOutlined />} onClick={() => add(newCase())}>{t('form.addCase')}</Button>
            </Flex>
          )}
        </Form.List>
        {rest.length > 0 && <Alert type="error" showIcon style={{ marginTop: 12 }} message={t('form.problems')} description={rest.join('\n')} />}
      </Form>
    </FormDrawer>
  );
}

/** The segment editor as a form control (Form.Item gives it value and onChange). */
function CaseRule({ value, onChange, problems }: { value?: Rule; onChange?(rule: Rule): void; problems: ErrorDetail[] }) {
  return <RuleEditor value={value ?? newCase().when} onChange={(r) => onChange?.(r)} problems={problems} />;
}
