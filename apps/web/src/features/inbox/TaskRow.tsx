import { CheckOutlined, CopyOutlined } from '@ant-design/icons';
import { memo } from 'react';
import { useTranslation } from 'react-i18next';
import { dueHint } from './due';
import type { Task } from './inbox-data';

interface Props {
  task: Task;
  active: boolean;
  selected: boolean;
  showExecutor: boolean;
  onOpen(task: Task): void;
  onSelect(task: Task): void;
  onCopy(task: Task): void;
  onSent(task: Task): void;
}

/**
 * One task in a list: who, what, when, and the two things done most (copy the message, mark it sent).
 * Plain elements styled like the kit's, not its components: a list shows 50 rows at once, and 200 Ant Design
 * controls cost the inbox's first screen about a third of its time on an employee's phone.
 */
export const TaskRow = memo(function TaskRow({ task, active, selected, showExecutor, onOpen, onSelect, onCopy, onSent }: Props) {
  const { t } = useTranslation('inbox');
  const who = task.contactName ?? (task.groupName ? `${t('row.group')} · ${task.groupName}` : '—');
  const hint = dueHint(task, t);
  const pending = task.status === 'pending';
  return (
    <li id={`task-${task.id}`} data-task-id={task.id} aria-current={active || undefined} className={`task-row${active ? ' task-row-active' : ''}`}>
      {pending && (
        <input
          type="checkbox"
          className="task-row-check"
          checked={selected}
          aria-label={t('row.select', { name: who })}
          onClick={(e) => e.stopPropagation()}
          onChange={() => onSelect(task)}
        />
      )}
      <div
        className="task-row-main"
        role="button"
        tabIndex={0}
        onClick={() => onOpen(task)}
        onKeyDown={(e) => { if (e.key === ' ' || e.key === 'Enter') { e.preventDefault(); e.stopPropagation(); onOpen(task); } }}
      >
        <div className="task-row-title">
          <span className="task-row-who">{who}</span>
          <span className={`task-row-due task-due-${hint.urgency}`}>{hint.text}</span>
        </div>
        <div className="task-row-meta">
          {task.sopName} · {t(`channels.${task.channel}`, { defaultValue: task.channel })}
          {showExecutor && ` · ${task.executorName ?? t('row.unassigned')}`}
          {!pending && ` · ${t(`statuses.${task.status}`)}${task.outcome ? ` · ${t(`outcomes.${task.outcome}`)}` : ''}`}
        </div>
        <div className="task-row-content">{task.content}</div>
      </div>
      {pending && (
        <div className="task-row-actions">
          <button type="button" className="task-row-btn" title={t('row.copy')} aria-label={t('row.copy')} onClick={(e) => { e.stopPropagation(); onCopy(task); }}>
            <CopyOutlined />
          </button>
          <button type="button" className="task-row-btn task-row-btn-primary" onClick={(e) => { e.stopPropagation(); onSent(task); }}>
            <CheckOutlined />
            {t('row.sent')}
          </button>
        </div>
      )}
    </li>
  );
});
