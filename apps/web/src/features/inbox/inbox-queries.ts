import { infiniteQueryOptions, keepPreviousData, queryOptions, type QueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../../api/client';
import { getViewerZone } from '../../lib/time';

// The inbox's server state, apart from its screens so the first chunk can prefetch it (pages.ts).

export type Counts = Schemas['CountsDto'];
export type InboxList = keyof Counts;
export const PAGE = 50;

/** Whose tasks: one person's (executorId), or everyone the caller may see (a manager's teams, an admin's tenant). */
export interface Scope {
  executorId?: string;
  sopId?: string;
  channel?: string;
}

const clean = (scope: Scope) => Object.fromEntries(Object.entries(scope).filter(([, v]) => v)) as Scope;

/** How many tasks each list holds under the same scope and filters as the lists (a badge counts what its list shows). */
export const countsQuery = (scope: Scope) => queryOptions({
  queryKey: ['inbox', 'counts', clean(scope)],
  queryFn: () => call(api.GET('/api/inbox/counts', { params: { query: { tz: getViewerZone(), ...clean(scope) } } })),
  refetchInterval: 60_000,
  placeholderData: keepPreviousData, // a filter change keeps the badges until their new counts arrive
});

/** A list's tasks in keyset pages of 50 ("load more" fetches the next). */
export const taskListQuery = (list: InboxList, scope: Scope) => infiniteQueryOptions({
  queryKey: ['inbox', 'list', list, clean(scope)],
  initialPageParam: undefined as string | undefined,
  queryFn: ({ pageParam }) => call(api.GET('/api/inbox/tasks', {
    params: { query: { list, limit: PAGE, tz: getViewerZone(), ...clean(scope), ...(pageParam ? { cursor: pageParam } : {}) } },
  })),
  getNextPageParam: (page) => page.nextCursor ?? undefined,
  refetchInterval: 60_000,
});

/** What the inbox asks first: today's tasks and the counts of the person's own inbox. */
export function prefetchMyInbox(queries: QueryClient, userId: string): void {
  void queries.prefetchInfiniteQuery(taskListQuery('today', { executorId: userId }));
  void queries.prefetchQuery(countsQuery({ executorId: userId }));
}
