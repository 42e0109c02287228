import { Select, type SelectProps } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { useTeams, useUsers, type UserFilter } from '../api/directory';
import type { User } from '../api/models';

/** Picks a person from the directory, searching by name or email as the user types. */
export function UserSelect({ filter = {}, ...props }: Omit<SelectProps<string>, 'options'> & { filter?: UserFilter }) {
  const [q, setQ] = useState('');
  const { t } = useTranslation();
  const { data: users = [], isFetching } = useUsers({ active: true, ...filter, q: q || undefined });
  // The chosen person may not be among the search's results: read them by id so their name shows.
  const chosen = typeof props.value === 'string' ? props.value : undefined;
  const { data: chosenUser } = useQuery({
    queryKey: ['user', chosen],
    enabled: Boolean(chosen) && !users.some((u) => u.id === chosen),
    queryFn: (): Promise<User> => call(api.GET('/api/users/{id}', { params: { path: { id: chosen! } } })),
    staleTime: 60_000,
  });
  const shown = chosenUser && !users.some((u) => u.id === chosenUser.id) ? [chosenUser, ...users] : users;
  return (
    <Select<string>
      showSearch={{ filterOption: false, onSearch: setQ }}
      loading={isFetching}
      allowClear
      options={shown.map((u) => ({ value: u.id, label: `${u.name} · ${t(`roles.${u.role}`)}` }))}
      {...props}
    />
  );
}

export function TeamSelect(props: Omit<SelectProps<string>, 'options'>) {
  const { data: teams = [], isLoading } = useTeams();
  return (
    <Select<string>
      showSearch={{ optionFilterProp: 'label' }}
      loading={isLoading}
      allowClear
      options={teams.map((team) => ({ value: team.id, label: team.name }))}
      {...props}
    />
  );
}
