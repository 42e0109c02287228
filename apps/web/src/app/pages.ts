import type { QueryClient } from '@tanstack/react-query';
import type { ComponentType } from 'react';
import { matchPath } from 'react-router';
import type { Me } from '../auth/session';
import { prefetchMyInbox } from '../features/inbox/inbox-queries';

type Load = () => Promise<{ default: ComponentType }>;

/**
 * Each screen's chunk by route path. Kept apart from the menu (routes.tsx, with its icons) so that the first
 * chunk can start fetching the page a signed-in visit opens on together with the shell, not after it.
 */
export const PAGES = {
  '/inbox': () => import('../features/inbox/InboxPage'),
  '/team': () => import('../features/inbox/TeamInboxPage'),
  '/dashboard': () => import('../features/dashboards/DashboardPage'),
  '/sops': () => import('../features/sops/SopsPage'),
  '/sops/:id': () => import('../features/sops/SopEditorPage'),
  '/materials': () => import('../features/materials/MaterialsPage'),
  '/contacts': () => import('../features/contacts/ContactsPage'),
  '/contacts/:id': () => import('../features/contacts/ContactPage'),
  '/segments': () => import('../features/segments/SegmentsPage'),
  '/segments/:id': () => import('../features/segments/SegmentEditorPage'),
  '/tags': () => import('../features/tags/TagsPage'),
  '/computed-tags': () => import('../features/computed-tags/ComputedTagsPage'),
  '/response-rules': () => import('../features/response-rules/ResponseRulesPage'),
  '/imports': () => import('../features/imports/ImportPage'),
  '/channel-codes': () => import('../features/channel-codes/ChannelCodesPage'),
  '/groups': () => import('../features/groups/GroupsPage'),
  '/admin/users': () => import('../features/admin/UsersPage'),
  '/admin/teams': () => import('../features/admin/TeamsPage'),
  '/admin/api-keys': () => import('../features/admin/ApiKeysPage'),
  '/admin/settings': () => import('../features/admin/SettingsPage'),
  '/admin/calendar': () => import('../features/admin/CalendarPage'),
  '/admin/wecom': () => import('../features/wecom/WecomPage'),
} satisfies Record<string, Load>;

export type PagePath = keyof typeof PAGES;

/** Starts loading the chunk of the page at `path` (before the signed-in person is known). */
export function preloadPage(path: string): void {
  const key = (Object.keys(PAGES) as PagePath[]).find((p) => matchPath(p, path));
  if (key) void PAGES[key]();
}

/**
 * Starts fetching the data of the first screen as soon as the person is known, while the page's code still
 * loads and renders: the employee's inbox (their most visited screen) shows its tasks a round trip sooner.
 */
export function prefetchFirstScreen(queries: QueryClient, me: Me, location: Location): void {
  if (matchPath('/inbox', location.pathname) && me.userId && !new URLSearchParams(location.search).get('list')) {
    prefetchMyInbox(queries, me.userId);
  }
}
