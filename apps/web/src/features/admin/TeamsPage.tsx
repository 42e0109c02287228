import { DeleteOutlined, DownOutlined, EditOutlined, PlusOutlined, TeamOutlined, UserAddOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Badge, Button, Drawer, Dropdown, Empty, Flex, Form, Input, Modal, Popconfirm, Space, Table, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client';
import type { Team, User } from '../../api/models';
import { Page } from '../../app/Page';
import { UserSelect } from '../../components/UserSelect';
import { addMessages } from '../../i18n';
import { formatDate } from '../../lib/time';
import { fieldProblems, ManagerSelect, refusal, RoleTag, useKeysetList } from './admin-shared';
import './admin.css';
import { messages } from './messages';
import { useMessage } from '../../app/feedback';

addMessages('admin', messages);

/** Teams with their manager and size: create, rename, set the manager, delete, and add or move members. */
export default function TeamsPage() {
  const { t } = useTranslation('admin');
  const message = useMessage();
  const queries = useQueryClient();
  const [editing, setEditing] = useState<Team | 'new' | null>(null);
  const [membersOf, setMembersOf] = useState<Team | null>(null);
  const list = useKeysetList<Team>(['teams', 'admin'], (cursor) =>
    call(api.GET('/api/teams', { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } })),
  );
  const refresh = () => {
    void queries.invalidateQueries({ queryKey: ['teams'] });
    void queries.invalidateQueries({ queryKey: ['users'] });
  };
  const remove = useMutation({
    mutationFn: (team: Team) => call(api.DELETE('/api/teams/{id}', { params: { path: { id: team.id } } })).then(() => team),
    onSuccess: (team) => { message.success(t('teams.deleted', { name: team.name })); refresh(); },
    onError: (e) => message.error({ content: refusal(e), duration: 8 }),
  });

  return (
    <Page title={t('teams.title')} extra={<Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')}>{t('teams.add')}</Button>}>
      <Table<Team>
        rowKey="id"
        size="middle"
        loading={list.isPending}
        dataSource={list.rows}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        locale={{ emptyText: <Empty description={t('teams.empty')} /> }}
        scroll={{ x: 760 }}
        columns={[
          {
            title: t('teams.columns.name'), dataIndex: 'name', sorter: (a, b) => a.name.localeCompare(b.name),
            render: (name: string, team) => <Button type="link" style={{ padding: 0 }} onClick={() => setMembersOf(team)}>{name}</Button>,
          },
          {
            title: t('teams.columns.manager'), dataIndex: 'managerId', width: 200,
            render: (id: string | null) => (id ? <PersonName id={id} /> : <Typography.Text type="secondary">{t('teams.noManager')}</Typography.Text>),
          },
          {
            title: t('teams.columns.members'), dataIndex: 'memberCount', width: 110, align: 'right',
            sorter: (a, b) => a.memberCount - b.memberCount,
          },
          { title: t('teams.columns.created'), dataIndex: 'createdAt', width: 130, sorter: (a, b) => a.createdAt.localeCompare(b.createdAt), render: formatDate },
          {
            title: t('teams.columns.actions'), key: 'actions', width: 260,
            render: (_, team) => (
              <Space size={0} wrap>
                <Button type="link" size="small" icon={<TeamOutlined />} onClick={() => setMembersOf(team)}>{t('teams.members')}</Button>
                <Button type="link" size="small" icon={<EditOutlined />} onClick={() => setEditing(team)}>{t('common:actions.edit')}</Button>
                <Popconfirm
                  title={t('teams.deleteConfirm', { name: team.name })}
                  description={<div style={{ maxWidth: 280 }}>{t('teams.deleteConfirmText', { count: team.memberCount })}</div>}
                  okText={t('common:actions.delete')}
                  okButtonProps={{ danger: true }}
                  onConfirm={() => remove.mutateAsync(team).catch(() => undefined)}
                >
                  <Button type="link" size="small" danger icon={<DeleteOutlined />}>{t('common:actions.delete')}</Button>
                </Popconfirm>
              </Space>
            ),
          },
        ]}
      />
      {editing && <TeamFormModal team={editing === 'new' ? null : editing} onClose={() => setEditing(null)} onSaved={refresh} />}
      {membersOf && <MembersDrawer team={membersOf} teams={list.rows} onClose={() => setMembersOf(null)} onChanged={refresh} />}
    </Page>
  );
}

/** A person's name by id (cached: every page reading the same person asks once). */
function PersonName({ id }: { id: string }) {
  const { data } = useQuery({
    queryKey: ['user', id],
    queryFn: () => call(api.GET('/api/users/{id}', { params: { path: { id } } })),
    staleTime: 60_000,
  });
  return data ? <Space size={4}>{data.name}<RoleTag role={data.role} /></Space> : <span>…</span>;
}

interface TeamForm {
  name: string;
  managerId?: string | null;
}

function TeamFormModal({ team, onClose, onSaved }: { team: Team | null; onClose(): void; onSaved(): void }) {
  const { t } = useTranslation('admin');
  const message = useMessage();
  const [form] = Form.useForm<TeamForm>();
  const [problems, setProblems] = useState<string[]>([]);
  const save = useMutation({
    mutationFn: (values: TeamForm) => {
      const body = { name: values.name.trim(), managerId: values.managerId ?? null };
      return team
        ? call(api.PATCH('/api/teams/{id}', { params: { path: { id: team.id } }, body }))
        : call(api.POST('/api/teams', { body }));
    },
    onSuccess: (saved) => {
      message.success(t(team ? 'teams.updated' : 'teams.created', { name: saved.name }));
      onSaved();
      onClose();
    },
    onError: (e) => setProblems(fieldProblems(form, e)),
  });
  return (
    <Modal
      open
      title={team ? t('teams.form.editTitle') : t('teams.form.createTitle')}
      okText={t('common:actions.save')}
      cancelText={t('common:actions.cancel')}
      onCancel={onClose}
      onOk={() => form.submit()}
      confirmLoading={save.isPending}
      destroyOnHidden
    >
      <Form<TeamForm>
        form={form}
        layout="vertical"
        requiredMark="optional"
        initialValues={team ? { name: team.name, managerId: team.managerId } : {}}
        onFinish={(values) => { setProblems([]); save.mutate(values); }}
        onValuesChange={() => problems.length && setProblems([])}
      >
        <Form.Item name="name" label={t('teams.form.name')} rules={[{ required: true, whitespace: true, message: t('teams.form.nameRequired') }, { max: 200 }]}>
          <Input autoFocus maxLength={200} />
        </Form.Item>
        <Form.Item name="managerId" label={t('teams.form.manager')} extra={t('teams.form.managerHelp')}>
          <ManagerSelect placeholder={t('teams.form.managerPlaceholder')} />
        </Form.Item>
        {problems.length > 0 && <Alert type="error" showIcon role="alert" message={problems[0]} description={problems.slice(1).join('; ') || undefined} />}
      </Form>
    </Modal>
  );
}

/** A team's members: add someone (moving them from another team), move a member elsewhere, or remove them. */
function MembersDrawer({ team, teams, onClose, onChanged }: { team: Team; teams: Team[]; onClose(): void; onChanged(): void }) {
  const { t } = useTranslation('admin');
  const message = useMessage();
  const [adding, setAdding] = useState<string | undefined>();
  const members = useKeysetList<User>(['users', 'team-members', team.id], (cursor) =>
    call(api.GET('/api/users', { params: { query: { limit: 200, teamId: team.id, ...(cursor ? { cursor } : {}) } } })),
  );
  const move = useMutation({
    mutationFn: async ({ userId, teamId }: { userId: string; teamId: string | null }) =>
      call(api.PATCH('/api/users/{id}', { params: { path: { id: userId } }, body: { teamId } })),
    onSuccess: (user, { teamId }) => {
      if (teamId === team.id) message.success(t('teams.added', { name: user.name }));
      else if (teamId === null) message.success(t('teams.removed', { name: user.name }));
      else message.success(t('teams.moved', { name: user.name, team: teams.find((x) => x.id === teamId)?.name ?? '' }));
      setAdding(undefined);
      onChanged();
    },
    onError: (e) => message.error({ content: refusal(e), duration: 8 }),
  });
  const others = teams.filter((x) => x.id !== team.id);

  return (
    <Drawer open onClose={onClose} title={t('teams.membersTitle', { name: team.name })} width={640} destroyOnHidden>
      <Form layout="vertical" onFinish={() => adding && move.mutate({ userId: adding, teamId: team.id })}>
        <Form.Item label={t('teams.addMember')} extra={t('teams.addMemberHelp')}>
          <Space.Compact style={{ width: '100%' }}>
            <UserSelect
              aria-label={t('teams.addMember')}
              placeholder={t('teams.addMemberPlaceholder')}
              value={adding}
              onChange={setAdding}
              style={{ flex: 1 }}
              data-testid="add-member-select"
            />
            <Button type="primary" htmlType="submit" icon={<UserAddOutlined />} disabled={!adding} loading={move.isPending}>
              {t('common:actions.add')}
            </Button>
          </Space.Compact>
        </Form.Item>
      </Form>
      <Table<User>
        rowKey="id"
        size="small"
        loading={members.isPending}
        dataSource={members.rows}
        pagination={false}
        locale={{ emptyText: <Empty description={t('teams.noMembers')} /> }}
        columns={[
          {
            title: t('users.columns.name'), dataIndex: 'name',
            render: (name: string, u) => (
              <Flex vertical>
                <span>{name}</span>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>{u.email}</Typography.Text>
              </Flex>
            ),
          },
          { title: t('users.columns.role'), dataIndex: 'role', width: 90, render: (r: User['role']) => <RoleTag role={r} /> },
          {
            title: t('users.columns.status'), dataIndex: 'disabled', width: 90,
            render: (disabled: boolean) => <Badge status={disabled ? 'default' : 'success'} text={t(`users.status.${disabled ? 'disabled' : 'active'}`)} />,
          },
          {
            title: t('users.columns.actions'), key: 'actions', width: 200,
            render: (_, u) => (
              <Space size={0} wrap>
                <Dropdown
                  disabled={others.length === 0}
                  trigger={['click']}
                  menu={{
                    items: others.map((x) => ({ key: x.id, label: x.name })),
                    onClick: ({ key }) => move.mutate({ userId: u.id, teamId: key }),
                  }}
                >
                  <Button type="link" size="small" aria-label={t('teams.moveToLabel', { name: u.name })}>
                    {t('teams.moveTo')} <DownOutlined />
                  </Button>
                </Dropdown>
                <Popconfirm
                  title={t('teams.removeConfirm', { name: u.name })}
                  okText={t('teams.removeMember')}
                  okButtonProps={{ danger: true }}
                  onConfirm={() => move.mutateAsync({ userId: u.id, teamId: null }).catch(() => undefined)}
                >
                  <Button type="link" size="small" danger>{t('teams.removeMember')}</Button>
                </Popconfirm>
              </Space>
            ),
          },
        ]}
      />
      {members.hasNextPage && (
        <Flex justify="center" className="admin-footer">
          <Button onClick={() => void members.fetchNextPage()} loading={members.isFetchingNextPage}>{t('common:actions.loadMore')}</Button>
        </Flex>
      )}
    </Drawer>
  );
}
