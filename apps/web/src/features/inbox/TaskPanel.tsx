import { CloseOutlined, CopyOutlined, LinkOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Divider, Empty, Flex, Input, Radio, Segmented, Skeleton, Space, Tag, Timeline, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, ApiError, call } from '../../api/client';
import { useSession } from '../../auth/session';
import { UserSelect } from '../../components/UserSelect';
import { errorText } from '../../lib/errors';
import { formatDateTime } from '../../lib/time';
import { dueHint, when, windowText } from './due';
import { copyText, OUTCOMES, taskActions, trackedUrl, useTaskDetail, type Outcome, type Task, type TaskDetail } from './inbox-data';
import { useMessage } from '../../app/feedback';

interface Props {
  taskId: string;
  /** the row's copy while the detail loads */
  preview?: Task;
  onClose(): void;
  /** after an action: the answer (the task as it is now) */
  onDone(task: Task): void;
}

/** A task whole: the message to copy, tracked links, the customer, what happened, and every action. */
export default function TaskPanel({ taskId, preview, onClose, onDone }: Props) {
  const { t } = useTranslation('inbox');
  const message = useMessage();
  const detail = useTaskDetail(taskId);
  const task: Task | TaskDetail | undefined = detail.data ?? preview;

  const copy = async (text: string, done: string) => {
    if (await copyText(text)) message.success(done);
    else message.error(t('panel.copyFailed'));
  };

  /**
   * The server hears of the copy (long before a person pastes it): the chat app's preview of the pasted link is then not
   * taken for the customer's open. Copied first, while the click still lets the page write the clipboard.
   */
  const copyLink = async (id: string, index: number, path: string) => {
    await copy(trackedUrl(path), t('panel.linkCopied'));
    void api.POST('/api/inbox/tasks/{id}/materials/{index}/copied', { params: { path: { id, index } } }).catch(() => undefined);
  };

  if (detail.error && !(detail.error instanceof ApiError && detail.error.status !== 404)) {
    return <PanelFrame onClose={onClose} title="—"><Alert type="warning" showIcon message={t('panel.gone')} /></PanelFrame>;
  }
  if (!task) return <PanelFrame onClose={onClose} title="…"><Skeleton active /></PanelFrame>;
  const who = task.contactName ?? task.groupName ?? '—';
  const hint = dueHint(task, t);
  return (
    <PanelFrame onClose={onClose} title={who}>
      <Flex wrap gap={4} style={{ marginBottom: 12 }}>
        <Tag color="blue">{task.sopName}</Tag>
        <Tag>{t(`channels.${task.channel}`, { defaultValue: task.channel })}</Tag>
        <Tag color={task.status === 'pending' ? (hint.urgency === 'warn' ? 'red' : hint.urgency === 'soon' ? 'orange' : 'green') : 'default'}>
          {task.status === 'pending' ? hint.text : t(`statuses.${task.status}`)}
        </Tag>
      </Flex>
      {task.wecomSendState && (
        <Alert type={task.wecomSendState === 'handed' || task.wecomSendState === 'sent' ? 'info' : 'warning'} showIcon style={{ marginBottom: 8 }}
          message={t(`wecomSend.${task.wecomSendState}`)} data-testid="wecom-send-state"
          description={detail.data?.wecomSendError ? t('common:labelled', { label: t('wecomSend.reason'), value: detail.data.wecomSendError }) : undefined} />
      )}
      <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
        {t('common:labelled', { label: t('panel.window'), value: windowText(task, t) })}
        {(task.executorName || task.executorId === null) && <> · {t('common:labelled', { label: t('panel.executor'), value: task.executorName ?? t('row.unassigned') })}</>}
      </Typography.Paragraph>

      <section aria-label={t('panel.message')} className="task-message">
        <Typography.Paragraph className="task-message-text" data-testid="task-message">{task.content}</Typography.Paragraph>
        <Button type="primary" icon={<CopyOutlined />} onClick={() => void copy(task.content, t('panel.copied'))} block data-testid="copy-message">{t('panel.copy')}</Button>
      </section>

      {detail.data && detail.data.materials.length > 0 && (
        <section>
          <Divider titlePlacement="start" plain>{t('panel.materials')}</Divider>
          {detail.data.materials.map((m, index) => (
            <Flex key={m.trackedPath} justify="space-between" align="center" gap="small" className="task-material">
              <Typography.Text ellipsis style={{ flex: 1 }}><LinkOutlined /> {m.title}</Typography.Text>
              <Button size="small" onClick={() => void copyLink(task.id, index, m.trackedPath)} data-tracked-url={trackedUrl(m.trackedPath)}>
                {t('panel.copyLink')}
              </Button>
            </Flex>
          ))}
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t('panel.trackedHint')}</Typography.Text>
        </section>
      )}

      {task.status === 'pending' ? <TaskActions task={task} onDone={onDone} /> : <Alert type="info" showIcon message={t('panel.finished')} style={{ marginTop: 16 }} />}

      {detail.data ? <TaskContext task={detail.data} /> : <Skeleton active paragraph={{ rows: 3 }} />}
    </PanelFrame>
  );
}

function PanelFrame({ title, onClose, children }: { title: string; onClose(): void; children: React.ReactNode }) {
  const { t } = useTranslation('inbox');
  return (
    <div className="task-panel">
      <Flex justify="space-between" align="center" className="task-panel-head">
        <Typography.Title level={4} style={{ margin: 0 }} id="task-panel-title" tabIndex={-1}>{title}</Typography.Title>
        <Button type="text" aria-label={t('panel.close')} icon={<CloseOutlined />} onClick={onClose} />
      </Flex>
      {children}
    </div>
  );
}

type ActionKind = 'complete' | 'snooze' | 'skip' | 'reassign';

function TaskActions({ task, onDone }: { task: Task; onDone(task: Task): void }) {
  const { t } = useTranslation('inbox');
  const message = useMessage();
  const [kind, setKind] = useState<ActionKind>('complete');
  const [outcome, setOutcome] = useState<Outcome>('sent');
  const [note, setNote] = useState('');
  const [reason, setReason] = useState('');
  const [until, setUntil] = useState('');
  const [to, setTo] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const team = useExecutorTeam(task.executorId);

  async function run(action: () => Promise<Task>, done: (task: Task) => string) {
    setBusy(true);
    setError(null);
    try {
      const answer = await action();
      message.success(done(answer));
      onDone(answer);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  const snoozeTo = (date: Date) => run(() => taskActions.snooze(task.id, date), (a) => t('panel.snoozed', { t: when(a.snoozedUntil ?? date, t) }));
  const tomorrowNine = () => { const d = new Date(); d.setDate(d.getDate() + 1); d.setHours(9, 0, 0, 0); return d; };

  return (
    <section className="task-actions" aria-label={t('panel.complete')}>
      <Segmented<ActionKind>
        block
        value={kind}
        onChange={(v) => { setKind(v); setError(null); }}
        options={(['complete', 'snooze', 'skip', 'reassign'] as const).map((k) => ({ value: k, label: t(`panel.${k}`) }))}
        style={{ margin: '16px 0 12px' }}
      />
      {kind === 'complete' && (
        <Space direction="vertical" style={{ width: '100%' }}>
          <Typography.Text id="outcome-label">{t('panel.outcome')}</Typography.Text>
          <Radio.Group aria-labelledby="outcome-label" value={outcome} onChange={(e) => setOutcome(e.target.value)} optionType="button" buttonStyle="solid"
            options={OUTCOMES.map((o) => ({ value: o, label: t(`outcomes.${o}`) }))} className="task-outcomes" />
          <Input.TextArea aria-label={t('panel.note')} placeholder={t('panel.notePlaceholder')} value={note} onChange={(e) => setNote(e.target.value)} maxLength={2000} autoSize={{ minRows: 2 }} />
          <Button type="primary" block loading={busy} data-testid="complete-btn" onClick={() => void run(() => taskActions.complete(task.id, outcome, note.trim() || undefined), () => t('panel.completed'))}>
            {t('panel.complete')}
          </Button>
        </Space>
      )}
      {kind === 'snooze' && (
        <Space direction="vertical" style={{ width: '100%' }}>
          <Flex gap="small" wrap>
            <Button onClick={() => void snoozeTo(new Date(Date.now() + 3_600_000))} disabled={busy} data-testid="snooze-1h">{t('panel.snooze1h')}</Button>
            <Button onClick={() => void snoozeTo(tomorrowNine())} disabled={busy}>{t('panel.snoozeTomorrow')}</Button>
          </Flex>
          <label htmlFor="snooze-until">{t('panel.snoozeAt')}</label>
          <Input id="snooze-until" type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />
          <Button block loading={busy} onClick={() => {
            const date = until ? new Date(until) : null;
            if (!date || date.getTime() <= Date.now()) return setError(new Error(t('panel.pickTime')));
            void snoozeTo(date);
          }}>{t('panel.snoozeGo')}</Button>
        </Space>
      )}
      {kind === 'skip' && (
        <Space direction="vertical" style={{ width: '100%' }}>
          <Input.TextArea aria-label={t('panel.reason')} placeholder={t('panel.reasonPlaceholder')} value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} autoSize={{ minRows: 2 }} />
          <Button danger block loading={busy} data-testid="skip-btn" onClick={() => {
            if (!reason.trim()) return setError(new Error(t('panel.reasonRequired')));
            void run(() => taskActions.skip(task.id, reason.trim()), () => t('panel.skipped'));
          }}>{t('panel.skip')}</Button>
        </Space>
      )}
      {kind === 'reassign' && (
        <Space direction="vertical" style={{ width: '100%' }}>
          <UserSelect aria-label={t('panel.reassignTo')} placeholder={t('panel.reassignPick')} value={to} onChange={setTo} style={{ width: '100%' }}
            filter={team ? { teamId: team } : {}} data-testid="reassign-select" />
          <Button block disabled={!to} loading={busy} data-testid="reassign-btn" onClick={() => void run(() => taskActions.reassign(task.id, to!), (a) => t('panel.reassigned', { name: a.executorName ?? '' }))}>
            {t('panel.reassignGo')}
          </Button>
        </Space>
      )}
      {error !== null && <Alert type="error" showIcon role="alert" message={errorText(error)} style={{ marginTop: 12 }} data-testid="action-error" />}
    </section>
  );
}

/** The team of the task's executor: the people it may be handed to (the API has the last word). */
function useExecutorTeam(executorId: string | null): string | undefined {
  const { me } = useSession();
  const { data } = useQuery({
    queryKey: ['user', executorId],
    enabled: Boolean(executorId) && me?.role !== 'admin' && me?.role !== 'ops',
    queryFn: () => call(api.GET('/api/users/{id}', { params: { path: { id: executorId! } } })),
    staleTime: 60_000,
  });
  return data?.teamId ?? undefined;
}

function TaskContext({ task }: { task: TaskDetail }) {
  const { t } = useTranslation('inbox');
  const { me } = useSession();
  const staff = me?.role === 'admin' || me?.role === 'ops' || me?.role === 'manager';
  return (
    <>
      <Divider titlePlacement="start" plain>{t('panel.customer')}</Divider>
      <Flex wrap gap={4} align="center">
        {task.contactTags.length ? task.contactTags.map((name) => <Tag key={name}>{name}</Tag>) : <Typography.Text type="secondary">{t('panel.noTags')}</Typography.Text>}
        {staff && task.contactId && <Link to={`/contacts/${task.contactId}`}>{t('panel.openContact')}</Link>}
      </Flex>
      <Divider titlePlacement="start" plain>{t('panel.responses')}</Divider>
      {task.lastResponses.length ? (
        <Timeline items={task.lastResponses.map((r) => ({
          children: <><Typography.Text>{t(`responseKinds.${r.kind}`, { defaultValue: r.kind })}{r.material ? ` · ${r.material}` : ''}{r.outcome ? ` · ${t(`outcomes.${r.outcome}`, { defaultValue: r.outcome })}` : ''}</Typography.Text><br /><Typography.Text type="secondary">{formatDateTime(r.at)}</Typography.Text></>,
        }))} />
      ) : <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('panel.noResponses')} />}
      <Divider titlePlacement="start" plain>{t('panel.history')}</Divider>
      {task.history.length ? (
        <Timeline items={task.history.map((e) => ({
          children: <><Typography.Text>{t(`events.${e.action}`, { defaultValue: e.action })}{historyDetail(e.detail, t)}</Typography.Text><br /><Typography.Text type="secondary">{formatDateTime(e.at)}</Typography.Text></>,
        }))} />
      ) : <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('panel.noHistory')} />}
    </>
  );
}

function historyDetail(detail: Record<string, unknown>, t: (k: string, o?: Record<string, unknown>) => string): string {
  if (typeof detail.outcome === 'string') return ` · ${t(`outcomes.${detail.outcome}`, { defaultValue: detail.outcome })}${typeof detail.note === 'string' ? ` · ${detail.note}` : ''}`;
  if (typeof detail.reason === 'string') return ` · ${detail.reason}`;
  if (typeof detail.until === 'string') return ` · ${formatDateTime(detail.until)}`;
  return '';
}
