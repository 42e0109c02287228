import { PlusOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Drawer, Empty, Flex, Form, Input, List, Modal, Popconfirm, Select, Space, Table, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call, type Schemas } from '../../api/client';
import { useUsers } from '../../api/directory';
import { Page } from '../../app/Page';
import { UserSelect } from '../../components/UserSelect';
import { addMessages } from '../../i18n';
import { applyFieldErrors, errorText } from '../../lib/errors';
import { formatDateTime } from '../../lib/time';
import { messages } from './messages';
import { useMessage } from '../../app/feedback';

addMessages('groups', messages);

type Group = Schemas['GroupDto'];

/** Customer group chats with their owner and members. */
export default function GroupsPage() {
  const { t } = useTranslation('groups');
  const message = useMessage();
  const queries = useQueryClient();
  const groups = useQuery({ queryKey: ['groups', 'page'], queryFn: () => call(api.GET('/api/groups', { params: { query: { limit: 200 } } })) });
  const owners = useUsers({});
  const ownerName = new Map((owners.data ?? []).map((u) => [u.id, u.name]));
  const [editing, setEditing] = useState<Group | 'new' | null>(null);
  const [members, setMembers] = useState<Group | null>(null);
  const refresh = () => void queries.invalidateQueries({ queryKey: ['groups'] });
  const remove = async (g: Group) => {
    try { await call(api.DELETE('/api/groups/{id}', { params: { path: { id: g.id } } })); refresh(); } catch (e) { message.error(errorText(e)); }
  };
  return (
    <Page title={t('title')} extra={<Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')}>{t('add')}</Button>}>
      <Table<Group> rowKey="id" size="middle" loading={groups.isPending} dataSource={groups.data?.items ?? []} pagination={{ pageSize: 20, hideOnSinglePage: true }}
        locale={{ emptyText: <Empty description={t('empty')} /> }}
        columns={[
          { title: t('name'), dataIndex: 'name', render: (name: string, g) => <Button type="link" style={{ padding: 0 }} onClick={() => setMembers(g)}>{name}</Button> },
          { title: t('owner'), dataIndex: 'ownerId', render: (id: string | null) => (id ? ownerName.get(id) ?? '—' : t('noOwner')) },
          { title: t('members'), dataIndex: 'memberCount', align: 'right' },
          { title: t('created'), dataIndex: 'createdAt', render: formatDateTime },
          {
            title: t('common:actions.more'), key: 'actions', render: (_, g) => (
              <Space size={0}>
                <Button type="link" size="small" onClick={() => setMembers(g)}>{t('members')}</Button>
                <Button type="link" size="small" onClick={() => setEditing(g)}>{t('common:actions.edit')}</Button>
                <Popconfirm title={t('deleteConfirm', { name: g.name })} okButtonProps={{ danger: true }} onConfirm={() => void remove(g)}>
                  <Button type="link" size="small" danger>{t('common:actions.delete')}</Button>
                </Popconfirm>
              </Space>
            ),
          },
        ]} />
      {editing && <GroupForm group={editing === 'new' ? null : editing} onClose={() => setEditing(null)} onSaved={refresh} />}
      {members && <Members group={members} onClose={() => setMembers(null)} onChanged={refresh} />}
    </Page>
  );
}

function GroupForm({ group, onClose, onSaved }: { group: Group | null; onClose(): void; onSaved(): void }) {
  const { t } = useTranslation('groups');
  const [form] = Form.useForm();
  const [problem, setProblem] = useState<string[]>([]);
  async function submit(v: { name: string; ownerId?: string }) {
    try {
      const body = { name: v.name.trim(), ownerId: v.ownerId ?? null };
      if (group) await call(api.PATCH('/api/groups/{id}', { params: { path: { id: group.id } }, body }));
      else await call(api.POST('/api/groups', { body }));
      onSaved();
      onClose();
    } catch (e) {
      setProblem([errorText(e), ...applyFieldErrors(form, e)]);
    }
  }
  return (
    <Modal open title={group ? t('edit') : t('add')} onCancel={onClose} onOk={() => form.submit()} okText={t('common:actions.save')} destroyOnHidden>
      <Form form={form} layout="vertical" initialValues={group ?? {}} onFinish={(v) => void submit(v)}>
        <Form.Item name="name" label={t('name')} rules={[{ required: true, whitespace: true, message: t('nameRequired') }]}><Input maxLength={200} placeholder="南京路店 VIP 群" /></Form.Item>
        <Form.Item name="ownerId" label={t('owner')}><UserSelect placeholder={t('noOwner')} /></Form.Item>
      </Form>
      {problem.length > 0 && <Alert type="error" showIcon message={problem.join(' ')} />}
    </Modal>
  );
}

/** A group's members (read as the segment "in this group", first page), added by search and removed one by one. */
function Members({ group, onClose, onChanged }: { group: Group; onClose(): void; onChanged(): void }) {
  const { t } = useTranslation('groups');
  const message = useMessage();
  const [q, setQ] = useState('');
  const members = useQuery({
    queryKey: ['groups', group.id, 'members'],
    queryFn: () => call(api.POST('/api/segments/preview', { body: { rule: { group: { any: [group.id] } } } })),
  });
  const found = useQuery({
    queryKey: ['contacts', 'search', q],
    enabled: q.length > 0,
    queryFn: () => call(api.GET('/api/contacts', { params: { query: { q, limit: 20 } } })),
  });
  const change = async (body: { add?: string[]; remove?: string[] }) => {
    try {
      await call(api.POST('/api/groups/{id}/members', { params: { path: { id: group.id } }, body }));
      void members.refetch();
      onChanged();
    } catch (e) {
      message.error(errorText(e));
    }
  };
  return (
    <Drawer open onClose={onClose} title={t('membersTitle', { name: group.name })} size={480}>
      <Flex vertical gap="middle">
        <Select showSearch={{ filterOption: false, onSearch: setQ }} placeholder={t('searchContact')} aria-label={t('addMember')} value={null}
          options={(found.data?.items ?? []).map((c) => ({ value: c.id, label: `${c.name} · ${c.externalId}` }))}
          onChange={(id: string | null) => id && void change({ add: [id] })} data-testid="group-add-member" />
        <Typography.Text type="secondary">
          {t('count', { n: members.data?.count ?? 0 })}{members.data && members.data.count > members.data.sample.length ? ` ${t('first', { n: members.data.sample.length })}` : ''}
        </Typography.Text>
        <List size="small" bordered loading={members.isPending} dataSource={members.data?.sample ?? []}
          renderItem={(c) => <List.Item actions={[<Button key="r" type="link" size="small" danger onClick={() => void change({ remove: [c.id] })}>{t('remove')}</Button>]}>{c.name} · {c.externalId}</List.Item>} />
      </Flex>
    </Drawer>
  );
}
