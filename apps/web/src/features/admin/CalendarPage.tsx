import { LeftOutlined, RightOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Calendar, Card, Flex, Form, Input, Modal, Popconfirm, Radio, Select, Space, Spin, Typography } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { api, call } from '../../api/client';
import { Page } from '../../app/Page';
import { addMessages, i18n } from '../../i18n';
import { fieldProblems, refusal } from './admin-shared';
import { BADGE, dayName, kindOf, type Day, type Kind } from './calendar-days';
import './admin.css';
import { messages } from './messages';
import { useMessage } from '../../app/feedback';

addMessages('admin', messages);

const ISO = 'YYYY-MM-DD';
const makeUpName = (name: string) => i18n.t('admin:calendar.makeupName', { name });

function DayBadge({ kind }: { kind: Kind }) {
  const { t } = useTranslation('admin');
  const badge = BADGE[kind];
  if (!badge) return null;
  return <span className={`cal-badge cal-badge-${kind}`}>{t(`calendar.badge.${badge}`)}</span>;
}

/** The business calendar as a month: public holidays (休), make-up working days (班) and the organization's own days. */
export default function CalendarPage() {
  const { t, i18n: { language } } = useTranslation('admin');
  const lang = language === 'en' ? 'en' : 'zh';
  const [params, setParams] = useSearchParams();
  const fromUrl = params.get('month');
  const month = fromUrl && /^\d{4}-\d{2}$/.test(fromUrl) ? dayjs(`${fromUrl}-01`) : dayjs().startOf('month');
  const [editing, setEditing] = useState<Day | null>(null);
  const from = month.startOf('month').subtract(7, 'day').format(ISO);
  const to = month.endOf('month').add(14, 'day').format(ISO);
  const days = useQuery({
    queryKey: ['calendar', from, to],
    queryFn: () => call(api.GET('/api/calendar/days', { params: { query: { from, to } } })),
    placeholderData: (previous) => previous,
  });
  const byDate = new Map((days.data ?? []).map((d) => [d.date, d]));
  const statutory = (days.data ?? []).some((d) => d.source === 'cn-statutory' && d.date.startsWith(month.format('YYYY-MM')));
  const show = (m: Dayjs) => setParams({ month: m.format('YYYY-MM') }, { replace: true });
  const open = (date: Dayjs) => {
    const day = byDate.get(date.format(ISO));
    if (day) setEditing(day);
  };

  return (
    <Page title={t('calendar.title')}>
      <Typography.Paragraph type="secondary" className="admin-intro">{t('calendar.intro')}</Typography.Paragraph>
      {statutory && <Alert type="info" showIcon message={t('calendar.statutory', { year: month.year() })} style={{ marginBottom: 12 }} />}
      {days.isError && <Alert type="error" showIcon message={`${t('calendar.loadFailed')}: ${refusal(days.error)}`} style={{ marginBottom: 12 }} />}
      <Card size="small" className="cal-card">
        <Spin spinning={days.isFetching}>
          <Calendar
            mode="month"
            value={month}
            onSelect={(date, info) => {
              if (!date.isSame(month, 'month')) show(date.startOf('month'));
              if (info.source === 'date') open(date);
            }}
            headerRender={() => <CalendarHeader month={month} onChange={show} />}
            fullCellRender={(date, info) => {
              if (info.type !== 'date') return info.originNode;
              const iso = date.format(ISO);
              if (!date.isSame(month, 'month')) {
                // Days of the months around: their number only (clicking one turns to its month).
                return <div className="cal-cell cal-cell-outside" data-date={iso}><span className="cal-cell-number">{date.date()}</span></div>;
              }
              const day = byDate.get(iso);
              const kind = day ? kindOf(day) : undefined;
              const name = day ? dayName(day, lang, makeUpName) : '';
              const today = date.isSame(dayjs(), 'day');
              const label = [date.format(lang === 'zh' ? 'M月D日' : 'D MMM'), kind && BADGE[kind] ? t(`calendar.legend.${kind}`) : '', name].filter(Boolean).join(' · ');
              return (
                <div
                  className={`cal-cell cal-cell-${kind ?? 'unknown'}${today ? ' cal-cell-today' : ''}`}
                  data-date={iso}
                  data-kind={kind}
                  role="button"
                  tabIndex={0}
                  aria-label={label}
                  onKeyDown={(e: KeyboardEvent) => {
                    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(date); }
                  }}
                >
                  <div className="cal-cell-head">
                    <span className="cal-cell-number">{date.date()}</span>
                    {kind && <DayBadge kind={kind} />}
                  </div>
                  {name && <div className="cal-cell-name" title={name}>{name}</div>}
                </div>
              );
            }}
          />
        </Spin>
      </Card>
      {editing && <DayModal day={editing} onClose={() => setEditing(null)} />}
    </Page>
  );
}

/** Month and year switching, today, and the legend. */
function CalendarHeader({ month, onChange }: { month: Dayjs; onChange(m: Dayjs): void }) {
  const { t, i18n: { language } } = useTranslation('admin');
  const thisYear = dayjs().year();
  const years = [...new Set([...Array.from({ length: 9 }, (_, i) => thisYear - 4 + i), month.year()])].sort();
  const monthNames = new Intl.DateTimeFormat(language === 'en' ? 'en-GB' : 'zh-CN', { month: 'long', timeZone: 'UTC' });
  return (
    <Flex justify="space-between" align="center" wrap gap="middle" className="cal-header">
      <Space wrap>
        <Button icon={<LeftOutlined />} aria-label={t('calendar.prev')} title={t('calendar.prev')} onClick={() => onChange(month.subtract(1, 'month'))} />
        <Select<number>
          aria-label={t('calendar.year')}
          value={month.year()}
          onChange={(y) => onChange(month.year(y))}
          options={years.map((y) => ({ value: y, label: t('calendar.yearOption', { year: y }) }))}
          style={{ width: 100 }}
        />
        <Select<number>
          aria-label={t('calendar.month')}
          value={month.month()}
          onChange={(m) => onChange(month.month(m))}
          options={Array.from({ length: 12 }, (_, m) => ({ value: m, label: monthNames.format(Date.UTC(2000, m, 1)) }))}
          style={{ width: 120 }}
        />
        <Button icon={<RightOutlined />} aria-label={t('calendar.next')} title={t('calendar.next')} onClick={() => onChange(month.add(1, 'month'))} />
        <Button onClick={() => onChange(dayjs().startOf('month'))}>{t('calendar.today')}</Button>
      </Space>
      <Flex gap="middle" wrap align="center" className="cal-legend" aria-label={t('calendar.legend.title')} role="list">
        {(['holiday', 'makeup', 'tenantOff', 'tenantWork'] as const).map((kind) => (
          <Space key={kind} size={4} role="listitem">
            <DayBadge kind={kind} />
            <span>{t(`calendar.legend.${kind}`)}</span>
          </Space>
        ))}
        <Space size={4} role="listitem">
          <span className="cal-swatch-weekend" />
          <span>{t('calendar.legend.weekend')}</span>
        </Space>
      </Flex>
    </Flex>
  );
}

interface DayForm {
  working: boolean;
  name?: string;
}

/** The organization's own entry for a day: working day or day off, with a name; or removing it. */
function DayModal({ day, onClose }: { day: Day; onClose(): void }) {
  const { t, i18n: { language } } = useTranslation('admin');
  const lang = language === 'en' ? 'en' : 'zh';
  const message = useMessage();
  const queries = useQueryClient();
  const [form] = Form.useForm<DayForm>();
  const [problem, setProblem] = useState<string | null>(null);
  const kind = kindOf(day);
  const own = day.source === 'tenant';
  const dateText = dayjs(day.date).format(lang === 'zh' ? 'YYYY年M月D日 dddd' : 'dddd D MMMM YYYY');
  const done = (text: string) => {
    message.success(text);
    void queries.invalidateQueries({ queryKey: ['calendar'] });
    onClose();
  };
  const save = useMutation({
    mutationFn: (values: DayForm) =>
      call(api.PUT('/api/calendar/days/{date}', { params: { path: { date: day.date } }, body: { working: values.working, name: values.name?.trim() ?? '' } })),
    onSuccess: (saved) => done(t('calendar.edit.saved', { date: dateText, kind: t(saved.working ? 'calendar.edit.working' : 'calendar.edit.off') })),
    onError: (e) => setProblem(fieldProblems(form, e).join(' ') || null),
  });
  const remove = useMutation({
    mutationFn: () => call(api.DELETE('/api/calendar/days/{date}', { params: { path: { date: day.date } } })),
    onSuccess: () => done(t('calendar.edit.removed', { date: dateText })),
    onError: (e) => setProblem(refusal(e)),
  });
  const name = dayName(day, lang, makeUpName);
  return (
    <Modal
      open
      title={t('calendar.edit.title', { date: dateText })}
      onCancel={onClose}
      destroyOnHidden
      footer={
        <Flex justify="space-between" wrap gap="small">
          <div>
            {own && (
              <Popconfirm title={t('calendar.edit.removeConfirm')} okButtonProps={{ danger: true }} onConfirm={() => remove.mutateAsync().catch(() => undefined)}>
                <Button danger loading={remove.isPending}>{t('calendar.edit.remove')}</Button>
              </Popconfirm>
            )}
          </div>
          <Space>
            <Button onClick={onClose}>{t('common:actions.cancel')}</Button>
            <Button type="primary" loading={save.isPending} onClick={() => form.submit()}>{t('calendar.edit.save')}</Button>
          </Space>
        </Flex>
      }
    >
      <Flex align="center" gap="small" wrap className="cal-current">
        <Typography.Text type="secondary">{t('calendar.edit.current')}:</Typography.Text>
        <DayBadge kind={kind} />
        <Typography.Text strong>{t(day.working ? 'calendar.edit.working' : 'calendar.edit.off')}</Typography.Text>
        {name && <Typography.Text>· {name}</Typography.Text>}
        <Typography.Text type="secondary">({t(`calendar.edit.source.${day.source}`)})</Typography.Text>
      </Flex>
      <Form<DayForm>
        form={form}
        layout="vertical"
        initialValues={own ? { working: day.working, name: day.name } : { working: !day.working, name: '' }}
        onFinish={(values) => { setProblem(null); save.mutate(values); }}
      >
        <Form.Item name="working" label={t('calendar.edit.kind')}>
          <Radio.Group
            optionType="button"
            buttonStyle="solid"
            options={[{ value: true, label: t('calendar.edit.working') }, { value: false, label: t('calendar.edit.off') }]}
          />
        </Form.Item>
        <Form.Item name="name" label={t('calendar.edit.name')} rules={[{ max: 100, message: t('calendar.edit.nameMax') }]}>
          <Input placeholder={t('calendar.edit.namePlaceholder')} maxLength={100} />
        </Form.Item>
      </Form>
      {problem && <Alert type="error" showIcon role="alert" message={problem} />}
    </Modal>
  );
}
