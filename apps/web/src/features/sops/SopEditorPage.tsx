import { AppstoreOutlined, DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert, Button, Card, DatePicker, Divider, Dropdown, Flex, Form, Input, InputNumber, Radio, Segmented, Select, Skeleton, Space, Switch, Tag, Typography,
} from 'antd';
import dayjs from 'dayjs';
import { lazy, Suspense, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate, useParams, useSearchParams } from 'react-router';
import { WECOM_MASS_SEND_CHANNELS, WECOM_MASS_SENDS_PER_MONTH } from '@sop/domain/sops/definition';
import { api, call, type Schemas } from '../../api/client';
import { useMessage } from '../../app/feedback';
import { Page } from '../../app/Page';
import { TagSelect } from '../../components/TagSelect';
import { TeamSelect, UserSelect } from '../../components/UserSelect';
import { addMessages } from '../../i18n';
import { applyWordedFieldErrors } from '../../components/intake-refusals';
import { errorText } from '../../lib/errors';
import { formatDateTime } from '../../lib/time';
import { CHANNELS } from '../inbox/inbox-data';
import { messages as inboxMessages } from '../inbox/messages';
import { messages as materialMessages } from '../materials/messages';
import { RuleInput, WindowInput } from './inputs';
import { useLiveCheck } from './live-check';
import { messages } from './messages';
import { refusalProblems, sopProblemWords } from './problem-words';
import { ACTIONS_BY_STATUS, useLifecycle } from './sop-actions';
import { type Definition, templateDefinition, type TemplateKey, TEMPLATE_KEYS } from './templates';
import { ZonedTime, ZoneNote, zonesDiffer } from './ZonedTime';
import './sops.css';

const MASS_SEND_CHANNELS: readonly string[] = WECOM_MASS_SEND_CHANNELS;

addMessages('sops', messages);
addMessages('inbox', inboxMessages); // channel names
addMessages('materials', materialMessages); // the material picker's texts

const SopForecast = lazy(() => import('./SopForecast'));
const SopResults = lazy(() => import('../dashboards/SopResults'));
const SopVersions = lazy(() => import('./SopVersions'));
const SopProgress = lazy(() => import('./SopProgress'));
const MaterialPicker = lazy(() => import('../materials/MaterialPicker').then((m) => ({ default: m.MaterialPicker })));

type Kind = Definition['kind'];
type Step = Definition['steps'][number];
interface FormValues {
  name: string;
  description?: string;
  audienceMode: 'segment' | 'groups';
  definition: Definition;
}

const ZONES = ['Asia/Shanghai', 'Asia/Hong_Kong', 'Asia/Taipei', 'Asia/Singapore', 'Asia/Tokyo', 'Europe/London', 'America/Los_Angeles', 'UTC'];
const VARIABLES = ['contact.name', 'contact.phone', 'contact.attributes.city', 'contact.orderCount', 'owner.name', 'executor.name', 'sop.name', 'step.name', 'group.name'];
const EXITS = ['replied', 'bought', 'tagAdded', 'tagRemoved', 'leftSegment'] as const;

/** What the kind does not use is left out, so switching kinds never saves fields of another kind. */
export function cleanDefinition(values: FormValues): Definition {
  const def = structuredClone(values.definition ?? {}) as Definition;
  const kind = def.kind;
  if (kind !== 'recurring') delete def.schedule;
  if (kind !== 'broadcast') delete def.sendAt;
  if (values.audienceMode === 'groups') def.audience = { groups: ('groups' in (def.audience ?? {}) ? (def.audience as { groups: object }).groups : {}) };
  else def.audience = { segmentId: (def.audience as { segmentId?: string } | undefined)?.segmentId ?? '' };
  def.steps = (def.steps ?? []).map((s) => {
    const step = { ...s };
    if (kind === 'journey') delete step.dueWithinMinutes;
    else { delete step.offsetDays; delete step.window; }
    if (!step.content?.variants?.length) step.content = { ...step.content, variants: undefined };
    return step;
  });
  if (kind !== 'journey') def.entry = undefined;
  return JSON.parse(JSON.stringify(def)); // drops the undefined left by the form
}

/** The SOP designer: who, when, what, by whom and how, checked as it is typed, previewed for a real customer. */
export default function SopEditorPage() {
  const { id } = useParams();
  const isNew = id === 'new';
  const [params] = useSearchParams();
  const template = params.get('template') as TemplateKey | null;
  const { t, i18n } = useTranslation('sops');
  const sop = useQuery({
    queryKey: ['sops', 'one', id],
    enabled: !isNew,
    queryFn: () => call(api.GET('/api/sops/{id}', { params: { path: { id: id! } } })),
  });
  if (!isNew && sop.isPending) return <Skeleton active />;
  if (!isNew && sop.error) return <Alert type="error" showIcon message={errorText(sop.error)} />;
  const lang = i18n.language === 'en' ? 'en' : 'zh';
  const start: FormValues = sop.data
    ? { name: sop.data.name, description: sop.data.description, audienceMode: 'groups' in sop.data.definition.audience ? 'groups' : 'segment', definition: sop.data.definition }
    : {
        name: template && TEMPLATE_KEYS.includes(template) ? t(`templates.${template}.name`) : '',
        audienceMode: template === 'morning' || template === 'weekly' ? 'groups' : 'segment',
        definition: { kind: 'journey', timezone: 'Asia/Shanghai', steps: [], ...(template ? templateDefinition(template, lang) : {}) } as Definition,
      };
  return <Editor key={id} sop={sop.data} start={start} />;
}

function Editor({ sop, start }: { sop?: Schemas['SopDetailDto']; start: FormValues }) {
  const { t } = useTranslation('sops');
  const message = useMessage();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [form] = Form.useForm<FormValues>();
  const values = Form.useWatch([], { form, preserve: true }) as FormValues | undefined; // the whole store, lists as arrays
  const [submitted, setSubmitted] = useState(false);
  const [rest, setRest] = useState<string[]>([]);
  const definition = useMemo(() => (values?.definition ? cleanDefinition(values) : undefined), [values]);
  const { problems, checking } = useLiveCheck(form, definition, sop?.id, submitted);
  const { confirmAndRun, holder } = useLifecycle();
  const readOnly = sop?.status === 'archived';
  const kind: Kind = values?.definition?.kind ?? start.definition.kind;
  const audienceMode = values?.audienceMode ?? start.audienceMode;

  const save = useMutation({
    mutationFn: (v: FormValues) => {
      const body = { name: v.name, description: v.description ?? '', definition: cleanDefinition(v) as never };
      return sop
        ? call(api.PATCH('/api/sops/{id}', { params: { path: { id: sop.id } }, body }))
        : call(api.POST('/api/sops', { body }));
    },
    onSuccess: (saved) => {
      message.success(sop ? t('done.saved') : t('done.created'));
      void queries.invalidateQueries({ queryKey: ['sops'] });
      if (!sop) navigate(`/sops/${saved.id}`, { replace: true });
    },
    onError: (e) => {
      const left = applyWordedFieldErrors(form, e, t, sopProblemWords(t));
      setRest(left);
      message.error(errorText(e));
    },
  });

  return (
    <Page
      title={sop ? sop.name : t('editor.newTitle')}
      extra={sop && (
        <Space>
          <Tag>{t(`statuses.${sop.status}`)}</Tag>
          {sop.currentVersion && <Tag>v{sop.currentVersion}</Tag>}
          {ACTIONS_BY_STATUS[sop.status].map((a) => (
            <Button key={a} danger={a === 'archive'} type={a === 'activate' ? 'primary' : 'default'} onClick={() => void confirmAndRun(sop, a)} data-testid={`sop-${a}`}>{t(`actions.${a}`)}</Button>
          ))}
        </Space>
      )}
    >
      {holder}
      <Form<FormValues>
        form={form}
        layout="vertical"
        initialValues={start}
        disabled={readOnly}
        onFinish={(v) => { setRest([]); save.mutate(v); }}
        onFinishFailed={() => setSubmitted(true)}
        className="sop-editor"
      >
        <Card title={t('editor.basics')}>
          <Flex gap={16} wrap>
            <Form.Item name="name" label={t('editor.name')} rules={[{ required: true, whitespace: true, message: t('editor.nameRequired') }]} style={{ flex: '2 1 280px' }}>
              <Input maxLength={200} />
            </Form.Item>
            <Form.Item name={['definition', 'timezone']} label={t('editor.timezone')} style={{ flex: '1 1 200px' }}>
              <Select options={ZONES.map((z) => ({ value: z, label: z }))} showSearch />
            </Form.Item>
          </Flex>
          <Form.Item name={['definition', 'kind']} label={t('editor.kind')}>
            <Radio.Group optionType="button" disabled={Boolean(sop?.currentVersion)} options={(['journey', 'recurring', 'broadcast'] as const).map((k) => ({ value: k, label: t(`kinds.${k}`) }))} />
          </Form.Item>
          <Form.Item name="description" label={t('editor.description')}>
            <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} maxLength={2000} />
          </Form.Item>
        </Card>

        <AudienceCard kind={kind} mode={audienceMode} />
        <WhenCard kind={kind} definition={definition} />

        <Card title={t('editor.steps')}>
          <Form.List name={['definition', 'steps']}>
            {(fields, { add, remove }) => (
              <Flex vertical gap={16}>
                {fields.map((field, i) => (
                  <StepCard key={field.key} index={i} kind={kind} groups={audienceMode === 'groups'} onRemove={fields.length > 1 ? () => remove(field.name) : undefined}
                    segmentId={audienceMode === 'segment' ? (definition?.audience as { segmentId?: string })?.segmentId : undefined} sopName={values?.name ?? ''} />
                ))}
                <Button icon={<PlusOutlined />} onClick={() => add(newStep(kind, fields.length))} data-testid="add-step">{t('editor.addStep')}</Button>
              </Flex>
            )}
          </Form.List>
        </Card>

        <PoliciesCard kind={kind} groups={audienceMode === 'groups'} selfId={sop?.id} />

        {sop && sop.status !== 'archived' && (
          <Card title={t('editor.forecast')} extra={<Typography.Text type="secondary">{t('editor.forecastHint')}</Typography.Text>}>
            <ZoneNote zone={sop.definition.timezone ?? 'Asia/Shanghai'} /> {/* the forecast's days are the SOP zone's */}
            <Suspense fallback={<Skeleton active />}><SopForecast sopId={sop.id} version={sop.updatedAt} /></Suspense>
          </Card>
        )}

        {sop && sop.versions.length > 0 && (
          <Card title={t('versions.title')}>
            <Suspense fallback={<Skeleton active />}><SopVersions key={sop.versions.length} sop={sop} /></Suspense>
          </Card>
        )}

        {sop?.currentVersion && (
          <Card title={t('progress.title')}>
            <Suspense fallback={<Skeleton active />}><SopProgress sopId={sop.id} version={sop.updatedAt} /></Suspense>
          </Card>
        )}

        {sop?.currentVersion && (
          <Card title={t('editor.results')}>
            <Suspense fallback={<Skeleton active />}><SopResults sopId={sop.id} /></Suspense>
          </Card>
        )}

        {rest.length > 0 && <Alert type="error" showIcon message={rest.join(' ')} />}
        {!readOnly && (
          <div className="sop-savebar">
            <Typography.Text type={problems.length ? 'danger' : 'secondary'} data-testid="sop-check">
              {checking ? t('editor.checking') : problems.length ? t('editor.problems', { count: problems.length }) : t('editor.ok')}
            </Typography.Text>
            <Button type="primary" htmlType="submit" loading={save.isPending} data-testid="sop-save">{t('editor.save')}</Button>
          </div>
        )}
      </Form>
      {sop && <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>{t('editor.updatedAt')} <ZonedTime at={sop.updatedAt} zone={sop.definition.timezone ?? 'Asia/Shanghai'} /></Typography.Paragraph>}
    </Page>
  );
}

function newStep(kind: Kind, n: number): Step {
  const base = { name: '', channel: 'wecom_chat' as const, content: { template: '', materials: [] }, executor: { rule: 'contactOwner' as const } };
  return kind === 'journey' ? { ...base, offsetDays: n === 0 ? 0 : n * 3, window: { start: '10:00', end: '18:00' } } : { ...base, dueWithinMinutes: 120 };
}

function AudienceCard({ kind, mode }: { kind: Kind; mode: 'segment' | 'groups' }) {
  const { t } = useTranslation('sops');
  const segments = useQuery({ queryKey: ['segments'], queryFn: () => call(api.GET('/api/segments')) });
  return (
    <Card title={t('editor.audience')}>
      {kind !== 'journey' && (
        <Form.Item name="audienceMode">
          <Segmented options={(['segment', 'groups'] as const).map((m) => ({ value: m, label: t(`editor.audienceMode.${m}`) }))} />
        </Form.Item>
      )}
      {mode === 'segment' || kind === 'journey' ? (
        <Form.Item name={['definition', 'audience', 'segmentId']} label={t('editor.segment')} rules={[{ required: true, message: t('editor.segmentRequired') }]}
          extra={<SegmentSize />}>
          <Select showSearch optionFilterProp="label" loading={segments.isPending} data-testid="audience-segment"
            options={(segments.data ?? []).map((s) => ({ value: s.id, label: s.name }))} />
        </Form.Item>
      ) : (
        <Flex gap={16} wrap>
          <Form.Item name={['definition', 'audience', 'groups', 'ownerUserIds']} label={t('editor.ownerUsers')} style={{ flex: '1 1 260px' }}>
            <UserSelect mode="multiple" />
          </Form.Item>
          <Form.Item name={['definition', 'audience', 'groups', 'ownerTeamIds']} label={t('editor.ownerTeams')} style={{ flex: '1 1 260px' }}>
            <TeamSelect mode="multiple" />
          </Form.Item>
        </Flex>
      )}
      {kind === 'journey' && (
        <Flex gap={16} wrap align="flex-end">
          <Form.Item name={['definition', 'entry', 'event']} label={t('editor.entryEvent')} style={{ minWidth: 220 }}>
            <Select allowClear placeholder={t('editor.entryEventNone')}
              options={(['contact.joined', 'contact.updated', 'contact.tags_changed'] as const).map((e) => ({ value: e, label: t(`editor.events.${e}`) }))} />
          </Form.Item>
          <Form.Item name={['definition', 'entry', 'reentry']} label={t('editor.reentry')} style={{ minWidth: 200 }}>
            <Select options={[{ value: 'never', label: t('editor.reentryNever') }, { value: 'afterExit', label: t('editor.reentryAfterExit') }]} />
          </Form.Item>
          <Form.Item name={['definition', 'entry', 'includeExistingMembers']} label={t('editor.includeExisting')} valuePropName="checked">
            <Switch />
          </Form.Item>
        </Flex>
      )}
    </Card>
  );
}

/** The chosen segment's size now (the same count the segment builder shows). */
function SegmentSize() {
  const { t } = useTranslation('sops');
  const segmentId = Form.useWatch(['definition', 'audience', 'segmentId']) as string | undefined;
  const size = useSegmentPreview(segmentId);
  return size.data ? <span data-testid="segment-size">{t('editor.segmentSize', { count: size.data.count })}</span> : null;
}

function useSegmentPreview(segmentId: string | undefined) {
  return useQuery({
    queryKey: ['sop-audience', segmentId],
    enabled: Boolean(segmentId),
    staleTime: 60_000,
    queryFn: async () => {
      const segment = await call(api.GET('/api/segments/{id}', { params: { path: { id: segmentId! } } }));
      return call(api.POST('/api/segments/preview', { body: { rule: segment.rule } }));
    },
  });
}

function WhenCard({ kind, definition }: { kind: Kind; definition?: Definition }) {
  const { t } = useTranslation('sops');
  if (kind === 'journey') return null;
  const zone = definition?.timezone ?? 'Asia/Shanghai';
  return (
    <Card title={t('editor.when')}>
      {kind === 'recurring' ? (
        <>
          <Form.Item name={['definition', 'schedule', 'rrule']} label={t('editor.schedule')} initialValue="FREQ=DAILY;BYHOUR=9;BYMINUTE=0">
            <RuleInput />
          </Form.Item>
          <NextOccurrences rrule={definition?.schedule?.rrule} zone={zone} businessDaysOnly={definition?.policies?.businessDaysOnly ?? true} />
        </>
      ) : (
        <Form.Item name={['definition', 'sendAt']} label={t('editor.sendAt')}
          getValueProps={(v: string | undefined) => ({ value: v ? dayjs(v) : null })}
          normalize={(v: dayjs.Dayjs | null) => (v ? v.toISOString() : undefined)}
          extra={definition?.sendAt ? <ZonedTime at={definition.sendAt} zone={zone} /> : <ZoneNote zone={zone} />}>
          <DatePicker showTime={{ format: 'HH:mm', minuteStep: 5 }} format="YYYY-MM-DD HH:mm" />
        </Form.Item>
      )}
    </Card>
  );
}

/** The rule's next 10 days in the SOP's zone, from the engine's calendar: holidays skipped and named, make-up working days marked. */
function NextOccurrences({ rrule, zone, businessDaysOnly }: { rrule?: string; zone: string; businessDaysOnly: boolean }) {
  const { t } = useTranslation('sops');
  const plan = useQuery({
    queryKey: ['sop-occurrences', rrule, zone, businessDaysOnly],
    enabled: Boolean(rrule),
    retry: false,
    queryFn: () => call(api.POST('/api/sops/preview-schedule', { body: { rrule: rrule!, timezone: zone, businessDaysOnly, count: 10 } })),
  });
  const names = t('editor.weekdayNames', { returnObjects: true }) as string[];
  if (!rrule) return <Typography.Text type="secondary">{t('editor.noRule')}</Typography.Text>;
  if (plan.error) return <Alert type="warning" showIcon message={refusalProblems(t, plan.error) || errorText(plan.error)} />;
  return (
    <div>
      <Typography.Text strong>{t('editor.nextOccurrences')}</Typography.Text> <ZoneNote zone={zone} />
      <ul className="sop-occurrences" data-testid="next-occurrences">
        {(plan.data?.occurrences ?? []).map((o) => (
          <li key={o.local} data-runs={o.runs} data-date={o.day.date}>
            <span className={o.runs ? undefined : 'sop-occurrence-skipped'}>{o.local} {names[o.weekday - 1]}</span>
            {o.runs && zonesDiffer(zone, o.at) && (
              <Typography.Text type="secondary" data-testid="viewer-time"> · {formatDateTime(o.at)} ({t('zone.yours')})</Typography.Text>
            )}
            {!o.runs && <Tag style={{ marginInlineStart: 8 }}>{t('editor.skipped')}</Tag>}
            {o.day.name && <Tag color={o.day.working ? 'blue' : 'red'} style={{ marginInlineStart: 8 }}>{o.day.working ? t('editor.makeUp') : t('editor.holiday')} · {o.day.name}</Tag>}
            {o.day.source === 'tenant' && <Tag style={{ marginInlineStart: 8 }}>{t('editor.tenantDay')}</Tag>}
          </li>
        ))}
      </ul>
    </div>
  );
}

function StepCard({ index, kind, groups, onRemove, segmentId, sopName }: {
  index: number; kind: Kind; groups: boolean; onRemove?(): void; segmentId?: string; sopName: string;
}) {
  const { t } = useTranslation('sops');
  const { t: ti } = useTranslation('inbox');
  const form = Form.useFormInstance();
  const path = ['definition', 'steps', index]; // absolute, for watching; Form.Item names inside the list are relative to it
  const rule = Form.useWatch([...path, 'executor', 'rule']) as string | undefined;
  const channel = Form.useWatch([...path, 'channel']) as string | undefined;
  // a channel WeCom cannot take drops the option (its field is hidden there, so the API's 422 would have nowhere to land)
  useEffect(() => {
    if (channel && !MASS_SEND_CHANNELS.includes(channel) && form.getFieldValue([...path, 'wecomMassSend']) !== undefined) {
      form.setFieldValue([...path, 'wecomMassSend'], undefined);
    }
  }, [channel]); // eslint-disable-line react-hooks/exhaustive-deps
  const area = useRef<{ resizableTextArea?: { textArea: HTMLTextAreaElement } } | null>(null);
  const insert = (variable: string) => {
    const el = area.current?.resizableTextArea?.textArea;
    const current = (form.getFieldValue([...path, 'content', 'template']) as string | undefined) ?? '';
    const at = el?.selectionStart ?? current.length;
    form.setFieldValue([...path, 'content', 'template'], `${current.slice(0, at)}{{ ${variable} }}${current.slice(el?.selectionEnd ?? at)}`);
  };
  return (
    <Card size="small" className="sop-step" data-testid={`step-${index}`}
      title={<span className="sop-step-head"><span className="sop-timeline-dot">{index + 1}</span>{t('editor.step', { n: index + 1 })}</span>}
      extra={onRemove && <Button type="text" danger icon={<DeleteOutlined />} aria-label={t('common:actions.delete')} onClick={onRemove} />}>
      <Flex gap={16} wrap>
        <Form.Item name={[index, 'name']} label={t('editor.stepName')} rules={[{ required: true, whitespace: true }]} style={{ flex: '2 1 220px' }}>
          <Input maxLength={200} />
        </Form.Item>
        {kind === 'journey' ? (
          <>
            <Form.Item name={[index, 'offsetDays']} label={t('editor.offsetDays')} style={{ flex: '0 1 140px' }}>
              <InputNumber min={0} max={365} style={{ width: '100%' }} />
            </Form.Item>
            <Form.Item name={[index, 'window']} label={t('editor.window')} style={{ flex: '1 1 220px' }}>
              <WindowInput />
            </Form.Item>
          </>
        ) : (
          <Form.Item name={[index, 'dueWithinMinutes']} label={t('editor.dueWithin')} style={{ flex: '0 1 160px' }}>
            <InputNumber min={5} max={10080} style={{ width: '100%' }} />
          </Form.Item>
        )}
        <Form.Item name={[index, 'channel']} label={t('editor.channel')} style={{ flex: '1 1 180px' }}>
          <Select options={CHANNELS.map((c) => ({ value: c, label: ti(`channels.${c}`) }))} data-testid={`step-channel-${index}`} />
        </Form.Item>
      </Flex>
      {channel && MASS_SEND_CHANNELS.includes(channel) && (
        <div data-testid={`mass-send-${index}`}>
          {/* the note as the item's help text: under the switch, with the item's own spacing before the message */}
          <Form.Item name={[index, 'wecomMassSend']} label={t(channel === 'moments' ? 'editor.massSendMoments' : 'editor.massSend')} valuePropName="checked"
            extra={t(channel === 'wecom_chat' ? 'editor.massSendLimit' : 'editor.massSendConfirm', { n: WECOM_MASS_SENDS_PER_MONTH })}>
            <Switch />
          </Form.Item>
        </div>
      )}
      <Form.Item name={[index, 'content', 'template']} label={
        <Flex gap="small" align="center">
          {t('editor.content')}
          <Dropdown menu={{ items: VARIABLES.filter((v) => (groups ? !v.startsWith('contact') && v !== 'owner.name' : v !== 'group.name')).map((v) => ({ key: v, label: `{{ ${v} }}`, onClick: () => insert(v) })) }}>
            <Button size="small" type="link" data-testid={`insert-variable-${index}`}>{t('editor.insertVariable')}</Button>
          </Dropdown>
        </Flex>
      }>
        <Input.TextArea ref={area as never} autoSize={{ minRows: 2, maxRows: 8 }} maxLength={10_000} />
      </Form.Item>
      {!groups && <MessagePreview path={path} segmentId={segmentId} sopName={sopName} />}
      <Variants index={index} />
      <Materials index={index} />
      <Flex gap={16} wrap>
        <Form.Item name={[index, 'executor', 'rule']} label={t('editor.executor')} style={{ flex: '1 1 180px' }}>
          <Select options={(groups ? ['groupOwner', 'user', 'roundRobin'] : ['contactOwner', 'user', 'roundRobin']).map((r) => ({ value: r, label: t(`editor.executorRules.${r}`) }))} />
        </Form.Item>
        {rule === 'user' && (
          <Form.Item name={[index, 'executor', 'userId']} label={t('editor.executorUser')} style={{ flex: '1 1 220px' }}><UserSelect /></Form.Item>
        )}
        {rule === 'roundRobin' && (
          <Form.Item name={[index, 'executor', 'teamId']} label={t('editor.executorTeam')} style={{ flex: '1 1 220px' }}><TeamSelect /></Form.Item>
        )}
        <Form.Item name={[index, 'reminder', 'dueSoonMinutes']} label={t('editor.dueSoon')} style={{ flex: '0 1 180px' }}>
          <InputNumber min={1} max={1440} style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item name={[index, 'reminder', 'overdueEscalationMinutes']} label={t('editor.escalate')} style={{ flex: '0 1 200px' }}>
          <InputNumber min={1} max={10080} style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item name={[index, 'reminder', 'mandatory']} label={t('editor.mandatory')} valuePropName="checked"><Switch /></Form.Item>
      </Flex>
    </Card>
  );
}

/** The step's message as one real customer of the audience will get it, rendered by the API with the engine's code. */
function MessagePreview({ path, segmentId, sopName }: { path: (string | number)[]; segmentId?: string; sopName: string }) {
  const { t } = useTranslation('sops');
  const template = Form.useWatch([...path, 'content', 'template']) as string | undefined;
  const stepName = Form.useWatch([...path, 'name']) as string | undefined;
  const audience = useSegmentPreview(segmentId);
  const [contactId, setContactId] = useState<string>();
  const chosen = contactId ?? audience.data?.sample[0]?.id;
  const [debounced, setDebounced] = useState(template);
  useEffect(() => { const timer = setTimeout(() => setDebounced(template), 300); return () => clearTimeout(timer); }, [template]);
  const preview = useQuery({
    queryKey: ['sop-message', debounced, chosen, sopName, stepName],
    enabled: Boolean(debounced && chosen),
    retry: false,
    queryFn: () => call(api.POST('/api/sops/preview-message', { body: { template: debounced!, contactId: chosen!, sopName, stepName: stepName ?? '' } })),
  });
  return (
    <Form.Item label={t('editor.preview')}>
      <Flex vertical gap="small">
        <Select style={{ maxWidth: 320 }} aria-label={t('editor.previewFor')} placeholder={t('editor.previewPick')} value={chosen} onChange={setContactId}
          options={(audience.data?.sample ?? []).map((c) => ({ value: c.id, label: c.name }))} data-testid="preview-contact" />
        <div className="sop-preview" data-testid="message-preview">
          {/* what keeps the template from rendering for this customer, in words; the refusal's own text only when it names nothing */}
          {preview.error ? <Typography.Text type="danger">{refusalProblems(t, preview.error) || errorText(preview.error)}</Typography.Text>
            : preview.data?.text ?? <Typography.Text type="secondary">{t('editor.previewEmpty')}</Typography.Text>}
        </div>
      </Flex>
    </Form.Item>
  );
}

/** A/B variants of the step's message: each contact gets one, by weight (the results compare them). */
function Variants({ index }: { index: number }) {
  const { t } = useTranslation('sops');
  return (
    <Form.List name={[index, 'content', 'variants']}>
      {(fields, { add, remove }) => (
        <Form.Item label={t('editor.variants')} tooltip={t('editor.variantsHint')}>
          <Flex vertical gap="small">
            {fields.map((f) => (
              <Flex key={f.key} gap="small" wrap align="flex-start" data-testid={`variant-${index}-${f.name}`}>
                <Form.Item name={[f.name, 'name']} noStyle rules={[{ required: true }]}><Input placeholder={t('editor.variantName')} style={{ width: 100 }} maxLength={50} /></Form.Item>
                <Form.Item name={[f.name, 'weight']} noStyle><InputNumber min={1} max={100} placeholder={t('editor.weight')} aria-label={t('editor.weight')} style={{ width: 90 }} /></Form.Item>
                <Form.Item name={[f.name, 'template']} noStyle rules={[{ required: true }]}><Input.TextArea autoSize={{ minRows: 1, maxRows: 6 }} style={{ flex: 1, minWidth: 260 }} /></Form.Item>
                <Button type="text" danger icon={<DeleteOutlined />} aria-label={t('common:actions.delete')} onClick={() => remove(f.name)} />
              </Flex>
            ))}
            <Button type="dashed" icon={<PlusOutlined />} style={{ alignSelf: 'flex-start' }} data-testid={`add-variant-${index}`}
              onClick={() => add({ name: String.fromCharCode(65 + fields.length), weight: 50, template: '' })}>
              {t('editor.addVariant')}
            </Button>
          </Flex>
        </Form.Item>
      )}
    </Form.List>
  );
}

/** A step's materials: picked from the library (the API copies its content in at save and publish), or a pasted link. */
function Materials({ index }: { index: number }) {
  const { t } = useTranslation('sops');
  const { t: tm } = useTranslation('materials');
  const [picking, setPicking] = useState(false);
  return (
    <Form.List name={[index, 'content', 'materials']}>
      {(fields, { add, remove }) => (
        <Form.Item label={t('editor.materials')}>
          <Flex vertical gap="small">
            {fields.map((f) => <MaterialRow key={f.key} step={index} name={f.name} onRemove={() => remove(f.name)} />)}
            <Space wrap>
              <Button icon={<AppstoreOutlined />} onClick={() => setPicking(true)} data-testid={`pick-material-${index}`}>{tm('picker.pick')}</Button>
              <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({ title: '', url: '', tagIds: [] })}>{t('editor.addMaterial')}</Button>
            </Space>
            {picking && (
              <Suspense fallback={null}>
                <MaterialPicker onClose={() => setPicking(false)}
                  onPick={(m) => { add({ materialId: m.id, title: m.title, url: m.url, tagIds: m.tagIds, ...(m.kind === 'image' ? { kind: 'image' } : {}) }); setPicking(false); }} />
              </Suspense>
            )}
          </Flex>
        </Form.Item>
      )}
    </Form.List>
  );
}

function MaterialRow({ step, name, onRemove }: { step: number; name: number; onRemove(): void }) {
  const { t } = useTranslation('sops');
  const { t: tm } = useTranslation('materials');
  // preserve: materialId has no field of its own until the row knows it is a library material
  const picked = Form.useWatch(['definition', 'steps', step, 'content', 'materials', name], { preserve: true }) as { materialId?: string; title?: string; url?: string; kind?: string } | undefined;
  const fromLibrary = Boolean(picked?.materialId);
  // handed to WeCom, a library image is uploaded as an image and everything else goes as the template's tracked link
  const massSend = Form.useWatch(['definition', 'steps', step, 'wecomMassSend'], { preserve: true }) as boolean | undefined;
  const channel = Form.useWatch(['definition', 'steps', step, 'channel'], { preserve: true }) as string | undefined;
  const asImage = fromLibrary && picked?.kind === 'image';
  return (
    <Flex gap="small" wrap align="baseline" data-testid={`material-${step}-${name}`}>
      <Form.Item name={[name, 'kind']} hidden noStyle><Input /></Form.Item>
      {massSend && channel && MASS_SEND_CHANNELS.includes(channel) && (
        <Tag color={asImage ? 'green' : 'default'} data-testid={`material-wecom-${step}-${name}`}>{t(asImage ? 'editor.wecomAsImage' : 'editor.wecomAsLink')}</Tag>
      )}
      {fromLibrary && (
        <Form.Item name={[name, 'materialId']} noStyle>
          <PickedMaterial label={tm('picker.fromLibrary')} title={picked?.title} url={picked?.url} />
        </Form.Item>
      )}
      <Form.Item name={[name, 'title']} noStyle hidden={fromLibrary} rules={[{ required: true }]}><Input placeholder={t('editor.materialTitle')} style={{ width: 200 }} /></Form.Item>
      <Form.Item name={[name, 'url']} noStyle hidden={fromLibrary} rules={[{ required: true }]}><Input placeholder="https://" style={{ width: 280 }} /></Form.Item>
      {/* the tags and the delete button wrap together: the button never goes to a line of its own */}
      <Flex gap="small" align="baseline">
        <Form.Item name={[name, 'tagIds']} noStyle><TagSelect placeholder={t('editor.materialTags')} aria-label={t('editor.materialTags')} style={{ minWidth: 200 }} disabled={fromLibrary} /></Form.Item>
        <Button type="text" danger icon={<DeleteOutlined />} aria-label={t('common:actions.delete')} onClick={onRemove} />
      </Flex>
    </Flex>
  );
}

/** A library material in a step: its title and URL as the library had them when last saved (the save copies the current ones in). */
function PickedMaterial({ label, title, url }: { value?: string; label: string; title?: string; url?: string }) {
  return (
    <Space size={4}>
      <Tag color="blue">{label}</Tag>
      <Typography.Text strong>{title}</Typography.Text>
      <Typography.Text type="secondary" ellipsis style={{ maxWidth: 260 }}>{url}</Typography.Text>
    </Space>
  );
}

function PoliciesCard({ kind, groups, selfId }: { kind: Kind; groups: boolean; selfId?: string }) {
  const { t } = useTranslation('sops');
  const journeys = useQuery({ queryKey: ['sops', 'journeys'], enabled: kind === 'journey', queryFn: () => call(api.GET('/api/sops', { params: { query: { kind: 'journey' } } })) });
  const p = ['definition', 'policies'];
  return (
    <Card title={t('editor.policies')}>
      <Flex gap={16} wrap>
        <Form.Item name={[...p, 'businessDaysOnly']} label={t('editor.businessDays')} valuePropName="checked" initialValue><Switch /></Form.Item>
        <Form.Item name={[...p, 'quietHours']} label={t('editor.quietHours')}><WindowInput allowClear /></Form.Item>
        <Form.Item name={[...p, 'priority']} label={t('editor.priority')}><InputNumber min={0} max={100} /></Form.Item>
        <Form.Item name={[...p, 'executorDailyCapacity']} label={t('editor.capacity')}><InputNumber min={1} max={10000} /></Form.Item>
        <Form.Item name={[...p, 'overflow']} label={t('editor.overflow')}>
          <Radio.Group options={[{ value: 'defer', label: t('editor.overflowDefer') }, { value: 'reassign', label: t('editor.overflowReassign') }]} />
        </Form.Item>
      </Flex>
      {kind === 'journey' && (
        <Form.List name={[...p, 'exitOn']}>
          {(fields, { add, remove }) => (
            <Form.Item label={t('editor.exits')}>
              <Flex vertical gap="small">
                {fields.map((f) => <ExitRow key={f.key} name={f.name} groups={groups} onRemove={() => remove(f.name)} />)}
                <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({ on: 'replied' })} style={{ alignSelf: 'flex-start' }}>{t('editor.addExit')}</Button>
              </Flex>
            </Form.Item>
          )}
        </Form.List>
      )}
      <Divider plain titlePlacement="start">{t('editor.onFinish')}</Divider>
      <Flex gap={16} wrap>
        <Form.Item name={[...p, 'onFinish', 'addTagIds']} label={t('editor.addTags')} style={{ flex: '1 1 240px' }}><TagSelect /></Form.Item>
        <Form.Item name={[...p, 'onFinish', 'removeTagIds']} label={t('editor.removeTags')} style={{ flex: '1 1 240px' }}><TagSelect /></Form.Item>
        {kind === 'journey' && (
          <Form.Item name={[...p, 'onFinish', 'handoverSopId']} label={t('editor.handover')} style={{ flex: '1 1 240px' }}>
            <Select allowClear options={(journeys.data ?? []).filter((s) => s.id !== selfId && s.status !== 'archived').map((s) => ({ value: s.id, label: s.name }))} />
          </Form.Item>
        )}
      </Flex>
    </Card>
  );
}

function ExitRow({ name, groups, onRemove }: { name: number; groups: boolean; onRemove(): void }) {
  const { t } = useTranslation('sops');
  const on = Form.useWatch(['definition', 'policies', 'exitOn', name, 'on']) as string | undefined;
  return (
    <Flex gap="small" align="baseline">
      <Form.Item name={[name, 'on']} noStyle>
        <Select style={{ width: 180 }} options={EXITS.filter((e) => !(groups && e === 'leftSegment')).map((e) => ({ value: e, label: t(`editor.exitOn.${e}`) }))} />
      </Form.Item>
      {(on === 'tagAdded' || on === 'tagRemoved') && (
        <Form.Item name={[name, 'tagId']} noStyle><TagSelect multiple={false} style={{ width: 220 }} /></Form.Item>
      )}
      <Button type="text" danger icon={<DeleteOutlined />} aria-label={t('common:actions.delete')} onClick={onRemove} />
    </Flex>
  );
}
