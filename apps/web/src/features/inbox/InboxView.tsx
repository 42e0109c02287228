import { FilterOutlined } from '@ant-design/icons';
import { Alert, Badge, Button, Empty, Flex, Grid, Popover, Segmented, Spin, Typography } from 'antd';
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { Page } from '../../app/Page';
import { addMessages } from '../../i18n';
import { errorText } from '../../lib/errors';
import { copyText, LISTS, taskActions, useCounts, useRefreshInbox, useTaskList, type InboxList, type Scope, type Task } from './inbox-data';
import { messages } from './messages';
import { TaskRow } from './TaskRow';
import './inbox.css';
import { useMessage } from '../../app/feedback';

addMessages('inbox', messages);

const TaskPanel = lazy(() => import('./TaskPanel'));
const Filters = lazy(() => import('./InboxFilters'));
const PhoneDrawer = lazy(() => import('./PhoneDrawer'));
let firstTasksMarked = false;

interface Props {
  title: string;
  /** the tasks of one person (my inbox), or of everyone the caller may see (the team inbox) */
  executorId?: string;
  team?: boolean;
  initialList?: InboxList;
  /** shown above the lists once the first tasks are (the employee's week: a glance, the tasks are the work) */
  summary?: ReactNode;
}

/** The inbox: lists with counts, filters, pages, a task panel, bulk completion and the keyboard. */
export function InboxView({ title, executorId, team = false, initialList = 'today', summary }: Props) {
  const { t } = useTranslation('inbox');
  const message = useMessage();
  const narrow = !Grid.useBreakpoint().lg;
  const [list, setList] = useState<InboxList>(initialList);
  const [filters, setFilters] = useState<Scope>({});
  const scope = useMemo(() => ({ ...filters, executorId: executorId ?? filters.executorId }), [filters, executorId]);
  const counts = useCounts(scope);
  const pages = useTaskList(list, scope);
  const tasks = useMemo(() => pages.data?.pages.flatMap((p) => p.items) ?? [], [pages.data]);
  const [active, setActive] = useState(0);
  const [openId, setOpenId] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const refresh = useRefreshInbox();
  const [params, setParams] = useSearchParams();
  // /inbox?task=42 (a notification, a shared link) opens that task; ?list=today opens that list; the team
  // inbox's ?executor= shows one person's tasks (the dashboard's drill-down to someone's overdue tasks).
  const linked = params.get('task');
  const linkedList = params.get('list');
  const linkedExecutor = team ? params.get('executor') : null;
  useEffect(() => {
    if (!linked && !linkedList && !linkedExecutor) return;
    if (linked) setOpenId(linked);
    if (LISTS.includes(linkedList as InboxList)) setList(linkedList as InboxList);
    if (linkedExecutor) setFilters((f) => ({ ...f, executorId: linkedExecutor }));
    setParams({}, { replace: true });
  }, [linked, linkedList, linkedExecutor, setParams]);

  useEffect(() => {
    if (!firstTasksMarked && tasks.length > 0) {
      firstTasksMarked = true;
      performance.mark('inbox:first-tasks');
    }
  }, [tasks.length]);
  useEffect(() => { setActive(0); setSelected(new Set()); }, [list, filters]);

  const current = tasks[Math.min(active, tasks.length - 1)];
  const open = useCallback((task: Task) => {
    setActive(tasks.indexOf(task));
    setOpenId(task.id);
  }, [tasks]);
  const copy = useCallback(async (task: Task) => {
    if (await copyText(task.content)) message.success(t('panel.copied'));
    else message.error(t('panel.copyFailed'));
  }, [message, t]);
  const afterAction = useCallback((task: Task) => {
    refresh(task);
    setSelected((s) => { const next = new Set(s); next.delete(task.id); return next; });
    if (!belongs(task, list, scope.executorId) && openId === task.id) {
      const index = tasks.findIndex((x) => x.id === task.id);
      const next = tasks[index + 1] ?? tasks[index - 1];
      setOpenId(next && next.id !== task.id ? next.id : null);
    }
  }, [refresh, openId, tasks, list, scope.executorId]);
  const sent = useCallback(async (task: Task) => {
    try {
      afterAction(await taskActions.complete(task.id, 'sent'));
      message.success(t('panel.completed'));
    } catch (e) {
      message.error(errorText(e));
      refresh();
    }
  }, [afterAction, message, refresh, t]);
  const toggle = useCallback((task: Task) => setSelected((s) => {
    const next = new Set(s);
    if (next.has(task.id)) next.delete(task.id); else next.add(task.id);
    return next;
  }), []);

  useKeyboard({
    move: (by) => setActive((i) => Math.max(0, Math.min(tasks.length - 1, i + by))),
    open: () => current && open(current),
    copy: () => current && void copy(current),
    sent: () => current?.status === 'pending' && void sent(current),
    select: () => current?.status === 'pending' && toggle(current),
    close: () => setOpenId(null),
  });
  useEffect(() => {
    if (current) document.getElementById(`task-${current.id}`)?.scrollIntoView({ block: 'nearest' });
  }, [current]);

  const panel = openId && (
    <Suspense fallback={<Spin style={{ display: 'block', margin: 48 }} />}>
      <TaskPanel key={openId} taskId={openId} preview={tasks.find((x) => x.id === openId)} onClose={() => setOpenId(null)} onDone={afterAction} />
    </Suspense>
  );
  const filterCount = Object.values(filters).filter(Boolean).length;

  return (
    <Page
      title={title}
      extra={
        <Popover trigger="click" placement="bottomRight" content={<Suspense fallback={<Spin />}><Filters team={team} value={filters} onChange={setFilters} /></Suspense>}>
          <Badge count={filterCount} size="small"><Button icon={<FilterOutlined />}>{t('filters.title')}</Button></Badge>
        </Popover>
      }
    >
      {pages.isSuccess && summary}
      <Segmented<InboxList>
        block
        value={list}
        onChange={setList}
        className="inbox-lists"
        options={LISTS.map((l) => ({
          value: l,
          label: <span data-list={l}>{t(`lists.${l}`)}{l !== 'done' && counts.data ? <Badge className="inbox-count" count={counts.data[l]} showZero overflowCount={999} color={l === 'overdue' && counts.data[l] ? '#cf1322' : '#595959'} /> : null}</span>,
        }))}
      />
      {!narrow && <Typography.Paragraph type="secondary" className="inbox-keys">{t('keysHint')}</Typography.Paragraph>}
      {selected.size > 0 && <BulkBar ids={[...selected]} onDone={(left) => { setSelected(new Set(left)); refresh(); }} onClear={() => setSelected(new Set())} />}
      <div className={openId && !narrow ? 'inbox-body inbox-body-split' : 'inbox-body'}>
        <div className="inbox-list-wrap">
          {pages.isPending && <Spin style={{ display: 'block', margin: 48 }} />}
          {pages.error && <Alert type="error" showIcon message={t('failed', { message: errorText(pages.error) })} action={<Button onClick={() => void pages.refetch()}>{t('retry')}</Button>} />}
          {pages.isSuccess && tasks.length === 0 && <Empty data-testid="inbox-empty" description={filterCount ? t('empty.filtered') : t(`empty.${list}`)} />}
          <ul className="inbox-list" aria-label={t(`lists.${list}`)}>
            {tasks.map((task, i) => (
              <TaskRow key={task.id} task={task} active={i === active} selected={selected.has(task.id)} showExecutor={team}
                onOpen={open} onSelect={toggle} onCopy={copy} onSent={sent} />
            ))}
          </ul>
          {pages.hasNextPage && (
            <Button block onClick={() => void pages.fetchNextPage()} loading={pages.isFetchingNextPage} style={{ marginTop: 8 }}>{t('loadMore')}</Button>
          )}
        </div>
        {!narrow && openId && <aside className="inbox-panel" aria-labelledby="task-panel-title">{panel}</aside>}
      </div>
      {narrow && openId && (
        <Suspense fallback={null}><PhoneDrawer onClose={() => setOpenId(null)}>{panel}</PhoneDrawer></Suspense>
      )}
    </Page>
  );
}

/** Whether a task, as an action left it, still belongs in the list shown (else the panel moves to the next). */
function belongs(task: Task, list: InboxList, executorId?: string): boolean {
  if (executorId && task.executorId !== executorId) return false;
  if (list === 'done') return task.status !== 'pending';
  if (task.status !== 'pending') return false;
  const now = Date.now();
  if (list === 'today') return !(task.snoozedUntil && Date.parse(task.snoozedUntil) > now);
  if (list === 'overdue') return Date.parse(task.dueUntil) < now;
  return true;
}

function BulkBar({ ids, onDone, onClear }: { ids: string[]; onDone(left: string[]): void; onClear(): void }) {
  const { t } = useTranslation('inbox');
  const message = useMessage();
  const [busy, setBusy] = useState(false);
  async function completeAll() {
    setBusy(true);
    try {
      const result = await taskActions.completeMany(ids, 'sent');
      if (result.refused.length) message.warning(`${t('bulk.done', { n: result.done.length })} · ${t('bulk.refused', { n: result.refused.length, why: result.refused.map((r) => r.problem).join(' ') })}`);
      else message.success(t('bulk.done', { n: result.done.length }));
      onDone(result.refused.map((r) => r.taskId));
    } catch (e) {
      message.error(errorText(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Flex className="inbox-bulk" align="center" justify="space-between" gap="small" wrap data-testid="bulk-bar">
      <Typography.Text strong>{t('bulk.selected', { n: ids.length })}</Typography.Text>
      <Flex gap="small">
        <Button onClick={onClear}>{t('bulk.clear')}</Button>
        <Button type="primary" loading={busy} onClick={() => void completeAll()} data-testid="bulk-complete">{t('bulk.complete')}</Button>
      </Flex>
    </Flex>
  );
}

/** j/k, o, c, Enter, x and Esc, except while typing or inside a dialog. */
function useKeyboard(keys: { move(by: number): void; open(): void; copy(): void; sent(): void; select(): void; close(): void }) {
  const ref = useRef(keys);
  useEffect(() => { ref.current = keys; });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      if (e.ctrlKey || e.metaKey || e.altKey || target.closest('input, textarea, select, [contenteditable=true], .ant-select, .ant-modal, .ant-popover')) return;
      const k = ref.current;
      const action = ({ j: () => k.move(1), k: () => k.move(-1), ArrowDown: () => k.move(1), ArrowUp: () => k.move(-1), o: k.open, c: k.copy, Enter: k.sent, x: k.select, Escape: k.close } as Record<string, () => void>)[e.key];
      if (!action || (e.key === 'Enter' && target.closest('button, a, .task-panel'))) return;
      e.preventDefault();
      action();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
}
