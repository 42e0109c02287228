import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Button, Flex, Input, InputNumber, Select, Switch, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { api, call, type ErrorDetail } from '../../api/client';
import { useTeams, useUsers } from '../../api/directory';
import { TagSelect } from '../../components/TagSelect';
import { ruleProblemText } from './rule-problems';
import {
  ATTRIBUTE_OPS, COMPARISONS, formatAttributeValue, isGroup, kindOf, METRICS, newPredicate, parseAttributeValue, PREDICATE_KINDS,
  TIME_FIELDS, type Json, type PredicateKind, type Rule,
} from './rule-model';

interface NodeProps {
  rule: Rule;
  /** the node's JSON path as the API names it in a 422 (rule.all[1].metric) */
  path: string;
  problems: ErrorDetail[];
  onChange(rule: Rule): void;
  onRemove?(): void;
}

/** The whole rule: a group of conditions and groups, nested, each condition excludable. */
export function RuleEditor({ value, onChange, problems }: { value: Rule; onChange(rule: Rule): void; problems: ErrorDetail[] }) {
  return <RuleNode rule={value} path="rule" problems={problems} onChange={onChange} />;
}

/** One node: a group or a condition, possibly wrapped in `not` (the "exclude" switch). */
function RuleNode({ rule, path, problems, onChange, onRemove }: NodeProps) {
  const { t } = useTranslation('segments');
  const negated = 'not' in rule;
  const inner = negated ? (rule.not as Rule) : rule;
  const innerPath = negated ? `${path}.not` : path;
  const wrap = (r: Rule) => onChange(negated ? { not: r } : r);
  const exclude = (
    <Flex align="center" gap={4}>
      <Switch size="small" checked={negated} onChange={(on) => onChange(on ? { not: inner } : inner)} aria-label={t('group.not')} />
      <Typography.Text type={negated ? 'danger' : 'secondary'}>{t('group.not')}</Typography.Text>
    </Flex>
  );
  if (isGroup(inner)) {
    return <RuleGroupBox rule={inner} path={innerPath} problems={problems} onChange={wrap} onRemove={onRemove} extra={onRemove ? exclude : undefined} negated={negated} />;
  }
  const mine = problems.filter((p) => p.path === path || p.path.startsWith(`${path}.`));
  return (
    <div className={negated ? 'rule-row rule-row-negated' : 'rule-row'} data-rule-path={path}>
      <Flex gap="small" wrap align="center">
        <Select<PredicateKind>
          aria-label={t('kinds.tag')}
          value={kindOf(inner) as PredicateKind}
          onChange={(k) => wrap(newPredicate(k))}
          options={PREDICATE_KINDS.map((k) => ({ value: k, label: t(`kinds.${k}`) }))}
          style={{ width: 150 }}
          className="rule-kind"
        />
        <PredicateFields rule={inner} onChange={wrap} />
        {/* together at the row's end: when the row wraps, the delete button never goes to a line of its own */}
        <Flex gap="small" align="center" style={{ marginInlineStart: 'auto' }}>
          {exclude}
          {onRemove && <Button type="text" danger aria-label={t('group.remove')} icon={<DeleteOutlined />} onClick={onRemove} />}
        </Flex>
      </Flex>
      {mine.map((p) => <Typography.Text key={`${p.path}:${p.problem}`} type="danger" className="rule-problem">{ruleProblemText(t, p.problem)}</Typography.Text>)}
    </div>
  );
}

function RuleGroupBox({ rule, path, problems, onChange, onRemove, extra, negated }: NodeProps & { extra?: React.ReactNode; negated: boolean }) {
  const { t } = useTranslation('segments');
  const mode = 'all' in rule ? 'all' : 'any';
  const children = rule[mode] as Rule[];
  const set = (list: Rule[]) => onChange({ [mode]: list });
  const own = problems.filter((p) => p.path === path || p.path === `${path}.${mode}`);
  return (
    <div className={negated ? 'rule-group rule-group-negated' : 'rule-group'} data-rule-path={path}>
      <Flex gap="small" align="center" wrap className="rule-group-head">
        <Select aria-label={t('group.all')} value={mode} onChange={(m) => onChange({ [m]: children })} style={{ width: 150 }}
          options={[{ value: 'all', label: t('group.all') }, { value: 'any', label: t('group.any') }]} />
        <span style={{ flex: 1 }} />
        {extra}
        {onRemove && <Button type="text" danger aria-label={t('group.remove')} icon={<DeleteOutlined />} onClick={onRemove} />}
      </Flex>
      <div className="rule-children">
        {children.map((child, i) => (
          <RuleNode key={i} rule={child} path={`${path}.${mode}[${i}]`} problems={problems}
            onChange={(r) => set(children.map((c, j) => (j === i ? r : c)))} onRemove={() => set(children.filter((_, j) => j !== i))} />
        ))}
      </div>
      {own.map((p) => <Typography.Text key={p.problem} type="danger" className="rule-problem">{ruleProblemText(t, p.problem)}</Typography.Text>)}
      <Flex gap="small">
        <Button size="small" icon={<PlusOutlined />} onClick={() => set([...children, newPredicate('tag')])}>{t('group.addPredicate')}</Button>
        <Button size="small" icon={<PlusOutlined />} onClick={() => set([...children, { any: [newPredicate('tag')] }])}>{t('group.addGroup')}</Button>
      </Flex>
    </div>
  );
}

/** The inputs of one condition, by its kind. */
function PredicateFields({ rule, onChange }: { rule: Rule; onChange(rule: Rule): void }) {
  const { t } = useTranslation('segments');
  const kind = kindOf(rule) as PredicateKind;
  const v = rule[kind] as Json;
  const set = (patch: Json) => onChange({ [kind]: { ...v, ...patch } });
  const num = (value: unknown, key: string, label: string, min?: number) => (
    <InputNumber aria-label={label} value={value as number} min={min} onChange={(n) => set({ [key]: n ?? undefined })} style={{ width: 110 }} />
  );
  switch (kind) {
    case 'tag':
      return <TagSelect multiple={false} aria-label={t('fields.tag')} placeholder={t('fields.tag')} value={(rule.tag as string) || undefined} onChange={(id) => onChange({ tag: id ?? '' })} style={{ width: 220 }} />;
    case 'tags': {
      const mode = 'all' in v ? 'all' : 'any';
      return (
        <>
          <Select aria-label={t('kinds.tags')} value={mode} onChange={(m) => onChange({ tags: { [m]: v[mode] } })} style={{ width: 90 }}
            options={(['any', 'all'] as const).map((m) => ({ value: m, label: t(`fields.tagsMode.${m}`) }))} />
          <TagSelect aria-label={t('fields.tag')} placeholder={t('fields.tag')} value={v[mode] as string[]} onChange={(ids) => onChange({ tags: { [mode]: ids ?? [] } })} style={{ width: 300 }} />
        </>
      );
    }
    case 'tagWeight':
      return (
        <>
          <TagSelect multiple={false} aria-label={t('fields.tag')} placeholder={t('fields.tag')} value={(v.tag as string) || undefined} onChange={(id) => set({ tag: id ?? '' })} style={{ width: 200 }} />
          <Typography.Text>{t('fields.weightAtLeast')}</Typography.Text>
          {num(v.gte, 'gte', t('fields.weightAtLeast'))}
        </>
      );
    case 'attribute':
      return (
        <>
          <Input aria-label={t('fields.attributeKey')} placeholder={t('fields.attributeKey')} value={v.key as string} onChange={(e) => set({ key: e.target.value })} style={{ width: 160 }} />
          <Select aria-label={t('ops.eq')} value={v.op as string} style={{ width: 110 }} options={ATTRIBUTE_OPS.map((o) => ({ value: o, label: t(`ops.${o}`) }))}
            onChange={(op) => onChange({ attribute: op === 'exists' ? { key: v.key, op } : { key: v.key, op, value: parseAttributeValue(op, formatAttributeValue(v.value)) } })} />
          {v.op !== 'exists' && (
            <Input aria-label={t('fields.value')} placeholder={v.op === 'in' ? t('fields.values') : t('fields.value')} value={formatAttributeValue(v.value)}
              onChange={(e) => set({ value: parseAttributeValue(v.op as string, e.target.value) })} style={{ width: 180 }} />
          )}
        </>
      );
    case 'metric':
      return (
        <>
          <Select aria-label={t('kinds.metric')} value={v.name as string} style={{ width: 140 }} onChange={(name) => set({ name })}
            options={METRICS.map((m) => ({ value: m, label: t(`fields.metric.${m}`) }))} />
          <Select aria-label={t('ops.gte')} value={v.op as string} style={{ width: 110 }} onChange={(op) => set({ op })} options={COMPARISONS.map((o) => ({ value: o, label: t(`ops.${o}`) }))} />
          {num(v.value, 'value', t('fields.value'))}
        </>
      );
    case 'daysSince':
      return (
        <>
          <Select aria-label={t('kinds.daysSince')} value={v.field as string} style={{ width: 130 }} onChange={(field) => set({ field })}
            options={TIME_FIELDS.map((f) => ({ value: f, label: t(`fields.time.${f}`) }))} />
          <Select aria-label={t('ops.gte')} value={v.op as string} style={{ width: 70 }} onChange={(op) => set({ op })} options={(['gte', 'lt'] as const).map((o) => ({ value: o, label: t(`fields.silence.${o}`) }))} />
          {num(v.days, 'days', t('fields.days'), 0)}
          <Typography.Text>{t('fields.days')}</Typography.Text>
        </>
      );
    case 'owner':
      return <OwnerFields value={v} onChange={(owner) => onChange({ owner })} />;
    case 'group':
      return <GroupFields value={v.any as string[]} onChange={(any) => onChange({ group: { any } })} />;
  }
}

function OwnerFields({ value, onChange }: { value: Json; onChange(v: Json): void }) {
  const { t } = useTranslation('segments');
  const users = useUsers({ active: true });
  const teams = useTeams();
  const clean = (v: Json) => Object.fromEntries(Object.entries(v).filter(([, list]) => (list as string[]).length));
  return (
    <>
      <Select mode="multiple" aria-label={t('fields.users')} placeholder={t('fields.users')} value={(value.users as string[]) ?? []} style={{ width: 220 }}
        showSearch={{ optionFilterProp: 'label' }} options={(users.data ?? []).map((u) => ({ value: u.id, label: u.name }))}
        onChange={(ids) => onChange(clean({ ...value, users: ids }))} />
      <Select mode="multiple" aria-label={t('fields.teams')} placeholder={t('fields.teams')} value={(value.teams as string[]) ?? []} style={{ width: 180 }}
        showSearch={{ optionFilterProp: 'label' }} options={(teams.data ?? []).map((x) => ({ value: x.id, label: x.name }))}
        onChange={(ids) => onChange(clean({ ...value, teams: ids }))} />
    </>
  );
}

function GroupFields({ value, onChange }: { value: string[]; onChange(v: string[]): void }) {
  const { t } = useTranslation('segments');
  const groups = useQuery({ queryKey: ['groups', 'all'], queryFn: () => call(api.GET('/api/groups', { params: { query: { limit: 200 } } })), staleTime: 60_000 });
  return (
    <Select mode="multiple" aria-label={t('fields.groups')} placeholder={t('fields.groups')} value={value} style={{ width: 260 }}
      showSearch={{ optionFilterProp: 'label' }} options={(groups.data?.items ?? []).map((g) => ({ value: g.id, label: g.name }))} onChange={onChange} />
  );
}
