import { PlusOutlined, StopOutlined, SyncOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, Badge, Button, Empty, Flex, Form, Input, Modal, Popconfirm, Space, Switch, Table, Tag, Tooltip, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call, type Schemas } from '../../api/client';
import type { Role } from '../../api/models';
import { Page } from '../../app/Page';
import { addMessages } from '../../i18n';
import { formatDateTime, formatRelative } from '../../lib/time';
import { CopyField, fieldProblems, refusal, RoleSelect, RoleTag, useKeysetList } from './admin-shared';
import './admin.css';
import { messages } from './messages';
import { useMessage } from '../../app/feedback';

addMessages('admin', messages);

type ApiKey = Schemas['ApiKeyDto'];
type CreatedKey = Schemas['CreatedApiKeyDto'];
type RotatedKey = Schemas['RotatedSigningSecretDto'];

/** Keys other systems call the API with: list, create (the secrets shown once), revoke. */
export default function ApiKeysPage() {
  const { t } = useTranslation('admin');
  const message = useMessage();
  const queries = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const [rotated, setRotated] = useState<RotatedKey | null>(null);
  const [showRevoked, setShowRevoked] = useState(false);
  const list = useKeysetList<ApiKey>(['api-keys'], (cursor) =>
    call(api.GET('/api/api-keys', { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } })),
  );
  const revokedCount = list.rows.filter((k) => k.revokedAt).length;
  const rows = showRevoked ? list.rows : list.rows.filter((k) => !k.revokedAt);
  const revoke = useMutation({
    mutationFn: (key: ApiKey) => call(api.DELETE('/api/api-keys/{id}', { params: { path: { id: key.id } } })),
    onSuccess: (key) => { message.success(t('apiKeys.revoked', { name: key.name })); void queries.invalidateQueries({ queryKey: ['api-keys'] }); },
    onError: (e) => message.error({ content: refusal(e), duration: 8 }),
  });

  const rotate = useMutation({
    mutationFn: (key: ApiKey) => call(api.POST('/api/api-keys/{id}/signing-secret', { params: { path: { id: key.id } } })),
    onSuccess: (key) => { setRotated(key); void queries.invalidateQueries({ queryKey: ['api-keys'] }); },
    onError: (e) => message.error({ content: refusal(e), duration: 8 }),
  });

  return (
    <Page title={t('apiKeys.title')} extra={<Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>{t('apiKeys.add')}</Button>}>
      <Typography.Paragraph type="secondary" className="admin-intro">{t('apiKeys.intro')}</Typography.Paragraph>
      {revokedCount > 0 && (
        <Flex gap="small" align="center" className="admin-toolbar">
          <Switch size="small" checked={showRevoked} onChange={setShowRevoked} id="show-revoked" />
          <label htmlFor="show-revoked">{t('apiKeys.showRevoked')} ({revokedCount})</label>
        </Flex>
      )}
      <Table<ApiKey>
        rowKey="id"
        size="middle"
        loading={list.isPending}
        dataSource={rows}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        scroll={{ x: 1360 }}
        rowClassName={(k) => (k.revokedAt ? 'admin-row-disabled' : '')}
        locale={{ emptyText: <Empty description={t('apiKeys.empty')} /> }}
        columns={[
          { title: t('apiKeys.columns.name'), dataIndex: 'name', width: 180, fixed: 'left', sorter: (a, b) => a.name.localeCompare(b.name), render: (name: string) => <Typography.Text strong>{name}</Typography.Text> },
          { title: t('apiKeys.columns.role'), dataIndex: 'role', width: 110, render: (r: Role) => <RoleTag role={r} /> },
          { title: t('apiKeys.columns.prefix'), dataIndex: 'prefix', width: 200, render: (p: string) => <Typography.Text code>{`sop_${p}_…`}</Typography.Text> },
          { title: t('apiKeys.columns.created'), dataIndex: 'createdAt', width: 160, sorter: (a, b) => a.createdAt.localeCompare(b.createdAt), render: formatDateTime },
          {
            title: t('apiKeys.columns.lastUsed'), dataIndex: 'lastUsedAt', width: 150,
            sorter: (a, b) => (a.lastUsedAt ?? '').localeCompare(b.lastUsedAt ?? ''),
            render: (at: string | null) => (at
              ? <span title={formatDateTime(at)}>{formatRelative(at)}</span>
              : <Typography.Text type="secondary">{t('apiKeys.neverUsed')}</Typography.Text>),
          },
          {
            title: t('apiKeys.signingKey'), dataIndex: 'signingKeyId', width: 170,
            render: (id: string | null, key) => (
              <Space size={4}>
                {id ? <Typography.Text code>{id}</Typography.Text> : <Typography.Text type="secondary">{t('apiKeys.signingKeyLegacy')}</Typography.Text>}
                {!key.revokedAt && !key.signingKeyCurrent && <Tooltip title={t('apiKeys.signingKeyOld')}><Tag color="warning">!</Tag></Tooltip>}
              </Space>
            ),
          },
          {
            title: t('apiKeys.columns.status'), dataIndex: 'revokedAt', width: 150,
            render: (at: string | null) => (at
              ? <Badge status="default" text={t('apiKeys.revokedAt', { at: formatDateTime(at) })} />
              : <Badge status="success" text={t('apiKeys.active')} />),
          },
          {
            title: t('apiKeys.columns.actions'), key: 'actions', width: 240,
            render: (_, key) => !key.revokedAt && (
              <Space size={0}>
              <Popconfirm
                title={t('apiKeys.rotateConfirm', { name: key.name })}
                description={<div style={{ maxWidth: 280 }}>{t('apiKeys.rotateConfirmText')}</div>}
                okText={t('apiKeys.rotate')}
                onConfirm={() => rotate.mutateAsync(key).catch(() => undefined)}
              >
                <Button type="link" size="small" icon={<SyncOutlined />}>{t('apiKeys.rotate')}</Button>
              </Popconfirm>
              <Popconfirm
                title={t('apiKeys.revokeConfirm', { name: key.name })}
                description={<div style={{ maxWidth: 280 }}>{t('apiKeys.revokeConfirmText')}</div>}
                okText={t('apiKeys.revoke')}
                okButtonProps={{ danger: true }}
                onConfirm={() => revoke.mutateAsync(key).catch(() => undefined)}
              >
                <Button type="link" size="small" danger icon={<StopOutlined />}>{t('apiKeys.revoke')}</Button>
              </Popconfirm>
              </Space>
            ),
          },
        ]}
      />
      {list.hasNextPage && (
        <Flex justify="center" className="admin-footer">
          <Button onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>{t('common:actions.loadMore')}</Button>
        </Flex>
      )}
      {creating && (
        <CreateKeyModal
          onClose={() => setCreating(false)}
          onCreated={(key) => {
            setCreating(false);
            setCreated(key);
            void queries.invalidateQueries({ queryKey: ['api-keys'] });
          }}
        />
      )}
      {created && <SecretsOnceModal created={created} onClose={() => setCreated(null)} />}
      {rotated && <SecretsOnceModal created={rotated} onClose={() => setRotated(null)} />}
    </Page>
  );
}

function CreateKeyModal({ onClose, onCreated }: { onClose(): void; onCreated(key: CreatedKey): void }) {
  const { t } = useTranslation('admin');
  const [form] = Form.useForm<{ name: string; role: Role }>();
  const [problems, setProblems] = useState<string[]>([]);
  const create = useMutation({
    mutationFn: (values: { name: string; role: Role }) => call(api.POST('/api/api-keys', { body: { name: values.name.trim(), role: values.role } })),
    onSuccess: onCreated,
    onError: (e) => setProblems(fieldProblems(form, e)),
  });
  return (
    <Modal
      open
      title={t('apiKeys.form.title')}
      okText={t('common:actions.create')}
      cancelText={t('common:actions.cancel')}
      onCancel={onClose}
      onOk={() => form.submit()}
      confirmLoading={create.isPending}
      destroyOnHidden
    >
      <Form
        form={form}
        layout="vertical"
        requiredMark="optional"
        initialValues={{ role: 'ops' }}
        onFinish={(values) => { setProblems([]); create.mutate(values); }}
      >
        <Form.Item name="name" label={t('apiKeys.form.name')} rules={[{ required: true, whitespace: true, message: t('apiKeys.form.nameRequired') }, { max: 200 }]}>
          <Input autoFocus placeholder={t('apiKeys.form.namePlaceholder')} maxLength={200} />
        </Form.Item>
        <Form.Item name="role" label={t('apiKeys.form.role')} extra={t('apiKeys.form.roleHelp')} rules={[{ required: true }]}>
          <RoleSelect />
        </Form.Item>
        {problems.length > 0 && <Alert type="error" showIcon role="alert" message={problems[0]} description={problems.slice(1).join('; ') || undefined} />}
      </Form>
    </Modal>
  );
}

/**
 * The key and its signing secret (or, after a rotation, the new signing secret alone), shown this once:
 * closing needs an explicit "stored them" click.
 */
function SecretsOnceModal({ created, onClose }: { created: CreatedKey | RotatedKey; onClose(): void }) {
  const { t } = useTranslation('admin');
  const key = 'key' in created ? created.key : null;
  return (
    <Modal
      open
      title={t(key ? 'apiKeys.createdTitle' : 'apiKeys.rotatedTitle', { name: created.name })}
      closable={false}
      maskClosable={false}
      keyboard={false}
      width={640}
      footer={<Button type="primary" onClick={onClose}>{t('apiKeys.saved')}</Button>}
    >
      <Space direction="vertical" size="middle" style={{ width: '100%' }}>
        <Alert type="warning" showIcon message={t(key ? 'apiKeys.once' : 'apiKeys.rotatedOnce')} description={t(key ? 'apiKeys.onceText' : 'apiKeys.rotatedOnceText')} />
        {key && (
          <div>
            <Typography.Text strong>{t('apiKeys.key')}</Typography.Text>
            <CopyField value={key} label={t('apiKeys.key')} copyLabel={t('apiKeys.copyKey')} testId="created-key" />
          </div>
        )}
        <div>
          <Typography.Text strong>{t('apiKeys.signingSecret')}</Typography.Text>
          <CopyField value={created.signingSecret} label={t('apiKeys.signingSecret')} copyLabel={t('apiKeys.copySigning')} testId="created-signing-secret" />
        </div>
      </Space>
    </Modal>
  );
}
