import { ApiOutlined, DisconnectOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Card, Descriptions, Flex, Form, Input, Popconfirm, Skeleton, Space, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, call, type Schemas } from '../../api/client';
import { useMessage } from '../../app/feedback';
import { Page } from '../../app/Page';
import { addMessages } from '../../i18n';
import { wecomFailureText } from '../../lib/problems';
import { formatDateTime, formatRelative } from '../../lib/time';
import { CopyField, fieldProblems, refusal } from '../admin/admin-shared';
import { messages } from './messages';
import { MembersCard, SyncCard } from './WecomSync';

addMessages('wecom', messages);

type Connection = Schemas['WecomConnectionDto'];
type Details = Schemas['ConnectWecomDto'];
const SECRETS = ['contactSecret', 'agentSecret', 'callbackToken', 'encodingAesKey'] as const;

/** An admin connects the organization's WeCom corporation and watches its callback. */
export default function WecomPage() {
  const { t } = useTranslation('wecom');
  const connection = useQuery({
    queryKey: ['wecom-connection'],
    // not connected is an answer, not a failure
    queryFn: () => call(api.GET('/api/wecom/connection')).catch((e) => {
      if (e instanceof ApiError && e.code === 'WECOM_NOT_CONNECTED') return null;
      throw e;
    }),
  });
  return (
    <Page title={t('title')}>
      <Typography.Paragraph type="secondary" style={{ maxWidth: 760 }}>{t('intro')}</Typography.Paragraph>
      {connection.isPending ? <Skeleton active /> : connection.isError ? <Alert type="error" showIcon message={refusal(connection.error)} /> : (
        <Flex vertical gap="middle" style={{ maxWidth: 760 }}>
          <StatusCard connection={connection.data} />
          {connection.data && <SyncCard />}
          {connection.data && <MembersCard />}
          <ConnectionForm connection={connection.data} />
        </Flex>
      )}
    </Page>
  );
}

function StatusCard({ connection }: { connection: Connection | null }) {
  const { t } = useTranslation('wecom');
  const message = useMessage();
  const queries = useQueryClient();
  const disconnect = useMutation({
    mutationFn: () => call(api.DELETE('/api/wecom/connection')),
    onSuccess: () => { queries.setQueryData(['wecom-connection'], null); message.success(t('disconnected')); },
    onError: (e) => message.error(refusal(e)),
  });
  if (!connection) return <Alert type="info" showIcon message={t('status.notConnected')} data-testid="wecom-not-connected" />;
  return (
    <Card
      title={<Space><ApiOutlined />{t('status.title')}</Space>}
      data-testid="wecom-status"
      extra={(
        <Popconfirm title={t('disconnectConfirm')} description={<div style={{ maxWidth: 280 }}>{t('disconnectText')}</div>} okText={t('disconnect')} okButtonProps={{ danger: true }} onConfirm={() => disconnect.mutateAsync().catch(() => undefined)}>
          <Button danger icon={<DisconnectOutlined />}>{t('disconnect')}</Button>
        </Popconfirm>
      )}
    >
      <Typography.Text strong>{t('status.callbackUrl')}</Typography.Text>
      <CopyField value={connection.callbackUrl} label={t('status.callbackUrl')} copyLabel={t('status.copy')} testId="wecom-callback-url" />
      <Typography.Paragraph type="secondary" style={{ marginTop: 4 }}>{t('status.callbackHelp')}</Typography.Paragraph>
      <Descriptions size="small" column={{ xs: 1, sm: 2 }}>
        <Descriptions.Item label={t('form.corpId')}>{connection.corpId}</Descriptions.Item>
        <Descriptions.Item label={t('form.agentId')}>{connection.agentId}</Descriptions.Item>
        <Descriptions.Item label={t('status.lastCallback')}>
          {connection.lastCallbackAt ? <span title={formatDateTime(connection.lastCallbackAt)}>{formatRelative(connection.lastCallbackAt)}</span> : t('status.never')}
        </Descriptions.Item>
        <Descriptions.Item label={t('status.events')}>{connection.eventsLastDay}</Descriptions.Item>
        <Descriptions.Item label={t('status.waiting')}>{connection.eventsWaiting}</Descriptions.Item>
        <Descriptions.Item label={t('status.lastProcessed')}>
          {connection.lastProcessedAt ? <span title={formatDateTime(connection.lastProcessedAt)}>{formatRelative(connection.lastProcessedAt)}</span> : t('status.notProcessed')}
        </Descriptions.Item>
        <Descriptions.Item label={t('status.connectedAt')}>{formatDateTime(connection.connectedAt)}</Descriptions.Item>
        <Descriptions.Item label={t('status.lastSync')}>
          {connection.lastSyncAt ? <span title={formatDateTime(connection.lastSyncAt)}>{formatRelative(connection.lastSyncAt)}</span> : t('status.neverSynced')}
        </Descriptions.Item>
        {connection.lastEventError && (
          <Descriptions.Item label={t('status.lastEventError')}>
            <Typography.Text type="danger" title={formatDateTime(connection.lastEventError.at)}>
              {connection.lastEventError.event}{connection.lastEventError.changeType ? ` / ${connection.lastEventError.changeType}` : ''}: {wecomFailureText(t, connection.lastEventError.message)}
            </Typography.Text>
          </Descriptions.Item>
        )}
        <Descriptions.Item label={t('status.tagPushes')}>
          <span data-testid="wecom-tag-pushes">{t('status.tagPushesCount', { waiting: connection.tagPushesWaiting, failed: connection.tagPushesFailed })}</span>
        </Descriptions.Item>
        {connection.lastTagPushError && (
          <Descriptions.Item label={t('status.lastTagPushError')}>
            <Typography.Text type="danger" title={formatDateTime(connection.lastTagPushError.at)}>
              {t('common:labelled', { label: t(`status.pushKind.${connection.lastTagPushError.kind}`), value: wecomFailureText(t, connection.lastTagPushError.message) })}
            </Typography.Text>
          </Descriptions.Item>
        )}
        {connection.tagPushesGivenUp > 0 && (
          <Descriptions.Item label={t('status.tagPushesGivenUp')}>
            <Space direction="vertical" size={0} data-testid="wecom-tag-pushes-given-up">
              <span>{t('status.tagPushesGivenUpCount', { count: connection.tagPushesGivenUp })}</span>
              {connection.lastTagPushGivenUp && (
                <Typography.Text type="danger" title={formatDateTime(connection.lastTagPushGivenUp.at)}>
                  {t('common:labelled', { label: t('status.lastGivenUp', { at: formatDateTime(connection.lastTagPushGivenUp.at) }), value: wecomFailureText(t, connection.lastTagPushGivenUp.message) })}
                </Typography.Text>
              )}
            </Space>
          </Descriptions.Item>
        )}
        {connection.lastError && <Descriptions.Item label={t('status.lastError')}><Typography.Text type="danger">{wecomFailureText(t, connection.lastError)}</Typography.Text></Descriptions.Item>}
      </Descriptions>
    </Card>
  );
}

function ConnectionForm({ connection }: { connection: Connection | null }) {
  const { t } = useTranslation('wecom');
  const message = useMessage();
  const queries = useQueryClient();
  const [form] = Form.useForm<Details>();
  const [problems, setProblems] = useState<string[]>([]);
  // the callback token and EncodingAESKey come back as •••• (nothing of them is shown): no "ends in" then
  const keepPlaceholder = (hint: string) => (/^…/.test(hint) ? t('form.keep', { last4: hint }) : t('form.keepHidden'));
  const save = useMutation({
    // an empty secret field keeps the saved secret: it is left out of the body
    mutationFn: (values: Details) => call(api.PUT('/api/wecom/connection', {
      body: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === 'string' ? v.trim() : v]).filter(([, v]) => v)) as Details,
    })),
    onSuccess: (saved) => {
      queries.setQueryData(['wecom-connection'], saved);
      form.resetFields([...SECRETS]);
      message.success(t('form.saved'));
    },
    onError: (e) => setProblems(fieldProblems(form, e)),
  });
  const field = (name: (typeof SECRETS)[number]) => (
    <Form.Item
      key={name}
      name={name}
      label={t(`form.${name}`)}
      rules={connection ? [] : [{ required: true, whitespace: true, message: t('form.required', { field: t(`form.${name}`) }) }]}
    >
      <Input.Password autoComplete="off" placeholder={connection ? keepPlaceholder(connection.secrets[name]) : undefined} />
    </Form.Item>
  );
  return (
    <Card title={t('form.title')}>
      <Form
        form={form}
        layout="vertical"
        requiredMark="optional"
        initialValues={{ corpId: connection?.corpId, agentId: connection?.agentId }}
        onFinish={(values) => { setProblems([]); save.mutate(values); }}
      >
        <Form.Item name="corpId" label={t('form.corpId')} extra={t('form.corpIdHelp')} rules={[{ required: true, whitespace: true, message: t('form.required', { field: t('form.corpId') }) }]}>
          <Input autoComplete="off" />
        </Form.Item>
        <Form.Item name="agentId" label={t('form.agentId')} extra={t('form.agentIdHelp')} rules={[{ required: true, pattern: /^\d{1,12}$/, message: t('form.required', { field: t('form.agentId') }) }]}>
          <Input autoComplete="off" inputMode="numeric" />
        </Form.Item>
        {SECRETS.map(field)}
        {problems.length > 0 && <Alert type="error" showIcon role="alert" message={problems[0]} description={problems.slice(1).join('; ') || undefined} style={{ marginBottom: 16 }} />}
        <Button type="primary" htmlType="submit" loading={save.isPending} data-testid="wecom-save">{save.isPending ? t('form.saving') : t('form.save')}</Button>
      </Form>
    </Card>
  );
}
