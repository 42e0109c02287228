import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { api, call, type Schemas } from '../../api/client';
import { countsQuery, taskListQuery, type InboxList, type Scope } from './inbox-queries';

export type { Counts, InboxList, Scope } from './inbox-queries';
export { PAGE } from './inbox-queries';

export type Task = Schemas['TaskDto'];
export type TaskDetail = Schemas['TaskDetailDto'];
export type Outcome = NonNullable<Task['outcome']>;

export const LISTS: InboxList[] = ['today', 'overdue', 'upcoming', 'done'];
export const OUTCOMES: Outcome[] = ['sent', 'replied', 'interested', 'not_interested', 'bought', 'wrong_contact', 'other'];
export const CHANNELS = ['wecom_chat', 'group_chat', 'moments', 'official_account', 'mini_program', 'video_channel', 'sms', 'email', 'phone_call', 'offline_visit', 'other'];

/** The lists' counts, under the same scope and filters as the list shown. */
export function useCounts(scope: Scope) {
  return useQuery(countsQuery(scope));
}

/** A list's tasks in keyset pages of 50 ("load more" fetches the next). */
export function useTaskList(list: InboxList, scope: Scope) {
  return useInfiniteQuery(taskListQuery(list, scope));
}

export function useTaskDetail(id: string | null) {
  return useQuery({
    queryKey: ['inbox', 'task', id],
    enabled: Boolean(id),
    queryFn: () => call(api.GET('/api/inbox/tasks/{id}', { params: { path: { id: id! } } })),
  });
}

/** After any action: lists and counts follow (the answer says where the task now belongs). */
export function useRefreshInbox() {
  const queries = useQueryClient();
  return useCallback((task?: Task) => {
    if (task) queries.setQueryData(['inbox', 'task', task.id], (old: TaskDetail | undefined) => (old ? { ...old, ...task } : old));
    void queries.invalidateQueries({ queryKey: ['inbox'] });
  }, [queries]);
}

export const taskActions = {
  complete: (id: string, outcome: Outcome, note?: string) =>
    call(api.POST('/api/inbox/tasks/{id}/complete', { params: { path: { id } }, body: note ? { outcome, note } : { outcome } })),
  skip: (id: string, reason: string) => call(api.POST('/api/inbox/tasks/{id}/skip', { params: { path: { id } }, body: { reason } })),
  snooze: (id: string, until: Date) => call(api.POST('/api/inbox/tasks/{id}/snooze', { params: { path: { id } }, body: { until: until.toISOString() } })),
  reassign: (id: string, executorId: string) => call(api.POST('/api/inbox/tasks/{id}/reassign', { params: { path: { id } }, body: { executorId } })),
  completeMany: (taskIds: string[], outcome: Outcome) => call(api.POST('/api/inbox/tasks/complete', { body: { taskIds, outcome } })),
};

/** The full address of a tracked link (employees paste it into WeCom). */
export const trackedUrl = (path: string) => new URL(path, window.location.origin).toString();

/** Copies text; false when the browser refuses (the caller says so). */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = Object.assign(document.createElement('textarea'), { value: text });
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}
