import { useQuery } from '@tanstack/react-query';
import { api, call } from './client';
import type { TagGroup, Team, User } from './models';

/** The tag system (every group with its tags), shared by every page that shows or picks tags. */
export function useTagGroups() {
  return useQuery({
    queryKey: ['tag-groups'],
    queryFn: (): Promise<TagGroup[]> => call(api.GET('/api/tag-groups')),
    staleTime: 60_000,
  });
}

/** Tags by id, for showing a contact's or a rule's tags by name and colour. */
export function useTagIndex() {
  const groups = useTagGroups();
  const index = new Map((groups.data ?? []).flatMap((g) => g.tags.map((t) => [t.id, { ...t, group: g }] as const)));
  return { ...groups, index };
}

export function useTeams() {
  return useQuery({
    queryKey: ['teams'],
    queryFn: async (): Promise<Team[]> => (await call(api.GET('/api/teams', { params: { query: { limit: 200 } } }))).items,
    staleTime: 60_000,
  });
}

export interface UserFilter {
  q?: string;
  teamId?: string;
  role?: User['role'];
  active?: boolean;
}

/** One page (up to 50) of the directory matching a search: pickers search as the user types. */
export function useUsers(filter: UserFilter = {}) {
  return useQuery({
    queryKey: ['users', filter],
    queryFn: async (): Promise<User[]> => (await call(api.GET('/api/users', { params: { query: { limit: 50, ...filter } } }))).items,
    staleTime: 30_000,
    placeholderData: (previous) => previous,
  });
}
