import { EditOutlined, KeyOutlined, PlusOutlined, SearchOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, Badge, Button, Empty, Flex, Form, Input, Modal, Popconfirm, Radio, Select, Space, Table, Tag, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client';
import { useTeams } from '../../api/directory';
import type { Role, User } from '../../api/models';
import { Page } from '../../app/Page';
import { useMe } from '../../auth/session';
import { TeamSelect } from '../../components/UserSelect';
import { addMessages } from '../../i18n';
import { formatDate } from '../../lib/time';
import { CopyField, fieldProblems, generatePassword, PasswordField, PASSWORD_MIN, refusal, RoleSelect, RoleTag, ROLES, useKeysetList } from './admin-shared';
import './admin.css';
import { messages } from './messages';
import { useMessage } from '../../app/feedback';

addMessages('admin', messages);

type Status = 'active' | 'disabled';
interface Filter {
  q?: string;
  role?: Role;
  teamId?: string;
  status?: Status;
}

/** The organization's people: search and filter, add, edit role and team, disable or enable, reset a password. */
export default function UsersPage() {
  const { t } = useTranslation('admin');
  const message = useMessage();
  const me = useMe();
  const queries = useQueryClient();
  const [search, setSearch] = useState('');
  const [filter, setFilter] = useState<Filter>({});
  const [editing, setEditing] = useState<User | 'new' | null>(null);
  const [resetting, setResetting] = useState<User | null>(null);
  const teams = useTeams();
  const teamName = new Map((teams.data ?? []).map((team) => [team.id, team.name]));

  // Search as the user types, a quarter second after the last key.
  useEffect(() => {
    const timer = setTimeout(() => setFilter((f) => ({ ...f, q: search.trim() || undefined })), 250);
    return () => clearTimeout(timer);
  }, [search]);

  const { q, role, teamId, status } = filter;
  const list = useKeysetList<User>(['users', 'admin', filter], (cursor) =>
    call(api.GET('/api/users', {
      params: {
        query: {
          limit: 50,
          ...(q ? { q } : {}),
          ...(role ? { role } : {}),
          ...(teamId ? { teamId } : {}),
          ...(status ? { active: status === 'active' } : {}),
          ...(cursor ? { cursor } : {}),
        },
      },
    })),
  );

  const refresh = () => {
    void queries.invalidateQueries({ queryKey: ['users'] });
    void queries.invalidateQueries({ queryKey: ['user'] });
    void queries.invalidateQueries({ queryKey: ['teams'] });
  };

  const toggle = useMutation({
    mutationFn: (user: User) => call(api.PATCH('/api/users/{id}', { params: { path: { id: user.id } }, body: { disabled: !user.disabled } })),
    onSuccess: (user) => {
      message.success(t(user.disabled ? 'users.disabled' : 'users.enabled', { name: user.name }));
      refresh();
    },
    onError: (e) => message.error({ content: refusal(e), duration: 8 }),
  });

  return (
    <Page title={t('users.title')} extra={<Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')}>{t('users.add')}</Button>}>
      <Flex gap="small" wrap className="admin-toolbar">
        <Input
          allowClear
          prefix={<SearchOutlined />}
          placeholder={t('users.searchPlaceholder')}
          aria-label={t('users.search')}
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          style={{ width: 240 }}
        />
        <Select<Role>
          allowClear
          aria-label={t('users.filterRole')}
          placeholder={t('users.allRoles')}
          value={role}
          onChange={(v) => setFilter((f) => ({ ...f, role: v }))}
          options={ROLES.map((r) => ({ value: r, label: t(`common:roles.${r}`) }))}
          style={{ width: 140 }}
        />
        <TeamSelect
          aria-label={t('users.filterTeam')}
          placeholder={t('users.allTeams')}
          value={teamId}
          onChange={(v) => setFilter((f) => ({ ...f, teamId: v }))}
          style={{ width: 180 }}
        />
        <Select<Status>
          allowClear
          aria-label={t('users.filterStatus')}
          placeholder={t('users.allStatus')}
          value={status}
          onChange={(v) => setFilter((f) => ({ ...f, status: v }))}
          options={(['active', 'disabled'] as const).map((s) => ({ value: s, label: t(`users.status.${s}`) }))}
          style={{ width: 130 }}
        />
      </Flex>
      <Table<User>
        rowKey="id"
        size="middle"
        loading={list.isPending || (list.isFetching && !list.isFetchingNextPage)}
        dataSource={list.rows}
        pagination={false}
        // the columns' widths without Created, which shows only on screens of 1600 px and more: at 1280 px the fixed
        // actions column covered it
        scroll={{ x: 1010 }}
        locale={{ emptyText: <Empty description={t('users.empty')} /> }}
        rowClassName={(u) => (u.disabled ? 'admin-row-disabled' : '')}
        columns={[
          {
            title: t('users.columns.name'), dataIndex: 'name', width: 170, sorter: (a, b) => a.name.localeCompare(b.name),
            render: (name: string, u) => (
              <Space size={4}>
                <Typography.Text strong>{name}</Typography.Text>
                {u.id === me.userId && <Tag>{t('you')}</Tag>}
              </Space>
            ),
          },
          { title: t('users.columns.email'), dataIndex: 'email', width: 220, ellipsis: { showTitle: true }, sorter: (a, b) => a.email.localeCompare(b.email) },
          { title: t('users.columns.role'), dataIndex: 'role', width: 100, render: (r: Role) => <RoleTag role={r} /> },
          {
            title: t('users.columns.team'), dataIndex: 'teamId', width: 140,
            render: (id: string | null) => (id ? teamName.get(id) ?? '…' : <Typography.Text type="secondary">{t('users.noTeam')}</Typography.Text>),
          },
          {
            title: t('users.columns.status'), dataIndex: 'disabled', width: 100,
            render: (disabled: boolean) => (disabled
              ? <Badge status="default" text={t('users.status.disabled')} />
              : <Badge status="success" text={t('users.status.active')} />),
          },
          { title: t('users.columns.created'), dataIndex: 'createdAt', width: 110, responsive: ['xxl'], sorter: (a, b) => a.createdAt.localeCompare(b.createdAt), render: formatDate },
          {
            title: t('users.columns.actions'), key: 'actions', width: 280, fixed: 'right',
            render: (_, u) => (
              <Space size={0}>
                <Button type="link" size="small" icon={<EditOutlined />} onClick={() => setEditing(u)}>{t('common:actions.edit')}</Button>
                <Button type="link" size="small" icon={<KeyOutlined />} onClick={() => setResetting(u)}>{t('users.resetPassword')}</Button>
                {u.disabled ? (
                  <Button type="link" size="small" onClick={() => toggle.mutate(u)}>{t('users.enable')}</Button>
                ) : (
                  <Popconfirm
                    title={t('users.disableConfirm', { name: u.name })}
                    description={<div style={{ maxWidth: 280 }}>{t('users.disableConfirmText')}</div>}
                    okText={t('users.disable')}
                    okButtonProps={{ danger: true }}
                    onConfirm={() => toggle.mutateAsync(u).catch(() => undefined)}
                  >
                    <Button type="link" size="small" danger>{t('users.disable')}</Button>
                  </Popconfirm>
                )}
              </Space>
            ),
          },
        ]}
      />
      <Flex justify="space-between" align="center" className="admin-footer">
        <Typography.Text type="secondary">{t('loaded', { count: list.rows.length })}</Typography.Text>
        {list.hasNextPage && (
          <Button onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>{t('common:actions.loadMore')}</Button>
        )}
      </Flex>
      {editing && <UserFormModal user={editing === 'new' ? null : editing} onClose={() => setEditing(null)} onSaved={refresh} />}
      {resetting && <ResetPasswordModal user={resetting} onClose={() => setResetting(null)} />}
    </Page>
  );
}

interface UserForm {
  name: string;
  email: string;
  role: Role;
  teamId?: string | null;
  password?: string;
}

/** Adds a person (with an initial password) or edits one's name, email, role and team. */
function UserFormModal({ user, onClose, onSaved }: { user: User | null; onClose(): void; onSaved(): void }) {
  const { t } = useTranslation('admin');
  const message = useMessage();
  const [form] = Form.useForm<UserForm>();
  const [problems, setProblems] = useState<string[]>([]);
  const save = useMutation({
    mutationFn: (values: UserForm) => {
      const body = { name: values.name.trim(), email: values.email.trim(), role: values.role, teamId: values.teamId ?? null };
      return user
        ? call(api.PATCH('/api/users/{id}', { params: { path: { id: user.id } }, body }))
        : call(api.POST('/api/users', { body: { ...body, password: values.password! } }));
    },
    onSuccess: (saved) => {
      message.success(t(user ? 'users.updated' : 'users.created', { name: saved.name }));
      onSaved();
      onClose();
    },
    onError: (e) => setProblems(fieldProblems(form, e)),
  });
  return (
    <Modal
      open
      title={user ? t('users.form.editTitle', { name: user.name }) : t('users.form.createTitle')}
      okText={t('common:actions.save')}
      cancelText={t('common:actions.cancel')}
      onCancel={onClose}
      onOk={() => form.submit()}
      confirmLoading={save.isPending}
      destroyOnHidden
      width={520}
    >
      <Form<UserForm>
        form={form}
        layout="vertical"
        requiredMark="optional"
        initialValues={user ? { name: user.name, email: user.email, role: user.role, teamId: user.teamId } : { role: 'employee' }}
        onFinish={(values) => { setProblems([]); save.mutate(values); }}
        onValuesChange={() => problems.length && setProblems([])}
      >
        <Form.Item name="name" label={t('users.form.name')} rules={[{ required: true, whitespace: true, message: t('users.form.nameRequired') }, { max: 200 }]}>
          <Input autoFocus maxLength={200} />
        </Form.Item>
        <Form.Item
          name="email"
          label={t('users.form.email')}
          rules={[{ required: true, message: t('users.form.emailRequired') }, { type: 'email', message: t('users.form.emailInvalid') }]}
        >
          <Input type="email" autoComplete="off" maxLength={320} />
        </Form.Item>
        <Flex gap="middle" wrap>
          <Form.Item name="role" label={t('users.form.role')} rules={[{ required: true, message: t('users.form.roleRequired') }]} style={{ flex: '1 1 200px' }}>
            <RoleSelect />
          </Form.Item>
          <Form.Item name="teamId" label={t('users.form.team')} style={{ flex: '1 1 200px' }}>
            <TeamSelect placeholder={t('users.form.teamPlaceholder')} />
          </Form.Item>
        </Flex>
        {!user && <PasswordField name="password" label={t('password.initial')} />}
        {problems.length > 0 && <Alert type="error" showIcon role="alert" message={problems[0]} description={problems.slice(1).join('; ') || undefined} />}
      </Form>
    </Modal>
  );
}

/** Sets a new password: generated (shown once after saving, with a copy button) or typed by the admin. */
function ResetPasswordModal({ user, onClose }: { user: User; onClose(): void }) {
  const { t } = useTranslation('admin');
  const [mode, setMode] = useState<'generate' | 'type'>('generate');
  const [generated] = useState(generatePassword);
  const [form] = Form.useForm<{ password: string }>();
  const [error, setError] = useState<string | null>(null);
  const reset = useMutation({
    mutationFn: (password: string) => call(api.PATCH('/api/users/{id}', { params: { path: { id: user.id } }, body: { password } })),
    onError: (e) => setError(fieldProblems(form, e).join(' ') || null),
  });
  const done = reset.isSuccess;
  const submit = async () => {
    setError(null);
    if (mode === 'generate') return reset.mutate(generated);
    const { password } = await form.validateFields();
    reset.mutate(password);
  };
  return (
    <Modal
      open
      title={t('users.resetTitle', { name: user.name })}
      onCancel={onClose}
      maskClosable={!done}
      footer={done
        ? <Button type="primary" onClick={onClose}>{t('users.done')}</Button>
        : [
            <Button key="cancel" onClick={onClose}>{t('common:actions.cancel')}</Button>,
            <Button key="ok" type="primary" danger loading={reset.isPending} onClick={() => void submit().catch(() => undefined)}>{t('users.resetSubmit')}</Button>,
          ]}
      destroyOnHidden
    >
      {done ? (
        <Space direction="vertical" style={{ width: '100%' }}>
          <Alert type="success" showIcon message={t('users.resetDone')} />
          {mode === 'generate' && (
            <>
              <Alert type="warning" showIcon message={t('users.resetOnce', { name: user.name })} />
              <CopyField value={generated} label={t('users.newPassword')} testId="new-password" />
            </>
          )}
          {mode === 'type' && <Typography.Text type="secondary">{t('password.help')}</Typography.Text>}
        </Space>
      ) : (
        <Space direction="vertical" style={{ width: '100%' }} size="middle">
          <Radio.Group
            value={mode}
            onChange={(e) => setMode(e.target.value)}
            options={[{ value: 'generate', label: t('users.resetMode.generate') }, { value: 'type', label: t('users.resetMode.type') }]}
          />
          {mode === 'type' && (
            <Form form={form} layout="vertical" onFinish={() => void submit()}>
              <Form.Item name="password" label={t('users.newPassword')} rules={[{ required: true, min: PASSWORD_MIN, message: t('password.min', { n: PASSWORD_MIN }) }]}>
                <Input.Password autoComplete="new-password" autoFocus />
              </Form.Item>
            </Form>
          )}
          {mode === 'generate' && <Typography.Text type="secondary">{t('password.help')}</Typography.Text>}
          {error && <Alert type="error" showIcon role="alert" message={error} />}
        </Space>
      )}
    </Modal>
  );
}
