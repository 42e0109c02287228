import { DownloadOutlined, ExportOutlined, PlusOutlined, QrcodeOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Divider, Empty, Flex, Form, Input, Modal, Popconfirm, Skeleton, Space, Switch, Table, Tag, Typography, type ButtonProps } from 'antd';
import QRCode from 'qrcode';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, call, type Schemas } from '../../api/client';
import type { User } from '../../api/models';
import { Page } from '../../app/Page';
import { DeleteAction, EditAction, IconAction } from '../../components/RowActions';
import { applyWordedFieldErrors, listField, refusalText, type ProblemWords } from '../../components/intake-refusals';
import { TagList, TagSelect } from '../../components/TagSelect';
import { UserSelect } from '../../components/UserSelect';
import { addMessages } from '../../i18n';
import { downloadFromApi } from '../../lib/download';
import { wecomFailureText } from '../../lib/problems';
import { formatDateTime } from '../../lib/time';
import { messages } from './messages';
import { useMessage } from '../../app/feedback';

addMessages('channel-codes', messages);

type SourceCode = Schemas['SourceCodeDto'];
interface FormValues {
  name: string;
  code: string;
  tagIds?: string[];
  ownerId?: string | null;
  /** also a WeCom "contact me" QR code, adding these employees */
  wecomQr?: boolean;
  wecomContactWay?: { userIds?: string[] };
}

/** WeCom limits a contact way's state (the code) to 30 characters. */
const WECOM_STATE_MAX = 30;

const CODE_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const PROBLEMS: ProblemWords = [
  [/letters, digits/, 'problems.codeFormat'],
  [/^is already used$/, 'problems.taken'],
  [/^no such tag$/, 'problems.noTag'],
  [/^no such active user$/, 'problems.noOwner'],
  [/WeCom's limit on a contact way's state/, 'problems.wecomState'],
  [/is matched to no active WeCom member/, 'problems.notWecomMember'],
  [/has not connected WeCom/, 'problems.wecomNotConnected'],
];

/** The QR code of a link as a PNG data URL, drawn once per link and size. */
function useQrCode(link: string, width: number) {
  return useQuery({
    queryKey: ['qr', link, width],
    queryFn: () => QRCode.toDataURL(link, { width, margin: 2, errorCorrectionLevel: 'M' }),
    staleTime: Infinity,
  });
}

/** Channel codes (渠道活码): the tags and owner a contact gets on arrival, and the QR code that brings them. */
export default function ChannelCodesPage() {
  const { t } = useTranslation('channel-codes');
  const message = useMessage();
  const queries = useQueryClient();
  const codes = useQuery({ queryKey: ['source-codes'], queryFn: () => call(api.GET('/api/source-codes')) });
  const [editing, setEditing] = useState<SourceCode | 'new' | null>(null);
  const [showing, setShowing] = useState<SourceCode | null>(null);
  const remove = useMutation({
    mutationFn: (id: string) => call(api.DELETE('/api/source-codes/{id}', { params: { path: { id } } })),
    onSuccess: () => {
      message.success(t('deleted'));
      void queries.invalidateQueries({ queryKey: ['source-codes'] });
    },
    onError: (e) => message.error(refusalText(t, 'channel-codes', e)),
  });

  return (
    <Page title={t('title')} extra={<Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')}>{t('create')}</Button>}>
      <Typography.Paragraph type="secondary">{t('intro')}</Typography.Paragraph>
      {codes.error && <Alert type="error" showIcon message={refusalText(t, 'channel-codes', codes.error)} style={{ marginBottom: 12 }} />}
      <Table<SourceCode>
        rowKey="id"
        size="middle"
        loading={codes.isPending}
        dataSource={codes.data ?? []}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        scroll={{ x: 1000 }}
        locale={{ emptyText: <Empty description={t('empty')}><Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')}>{t('create')}</Button></Empty> }}
        columns={[
          {
            title: t('columns.qr'), key: 'qr', width: 88,
            render: (_, c) => <QrThumb code={c} onOpen={() => setShowing(c)} />,
          },
          {
            title: t('columns.name'), dataIndex: 'name', sorter: (a, b) => a.name.localeCompare(b.name, 'zh-CN'),
            render: (name: string, c) => <Typography.Link onClick={() => setShowing(c)}>{name}</Typography.Link>,
          },
          {
            title: t('columns.code'), dataIndex: 'code', width: 220, sorter: (a, b) => a.code.localeCompare(b.code),
            render: (code: string, c) => (
              <Space size={4} wrap>
                <Typography.Text code>{code}</Typography.Text>
                {c.wecomContactWay && <Tag color="green">{t('wecom.badge')}</Tag>}
                {c.wecomLeftover && <Tag color="orange" data-testid="wecom-leftover-badge">{t('leftover.badge')}</Tag>}
              </Space>
            ),
          },
          {
            title: t('columns.tags'), dataIndex: 'tagIds', width: 240,
            render: (ids: string[]) => (ids.length ? <TagList ids={ids} /> : <Typography.Text type="secondary">{t('noTags')}</Typography.Text>),
          },
          { title: t('columns.owner'), dataIndex: 'ownerId', width: 150, render: (id: string | null) => <OwnerName id={id} /> },
          { title: t('columns.createdAt'), dataIndex: 'createdAt', width: 160, sorter: (a, b) => a.createdAt.localeCompare(b.createdAt), render: formatDateTime },
          {
            title: t('columns.actions'), key: 'actions', width: 150, fixed: 'right',
            render: (_, c) => (
              <Space size={0}>
                <IconAction label={t('actions.qr')} icon={<QrcodeOutlined />} onClick={() => setShowing(c)} />
                <EditAction onClick={() => setEditing(c)} />
                <DeleteAction title={t('deleteConfirm', { name: c.name })} effect={t('deleteEffect')} onConfirm={() => remove.mutateAsync(c.id)} />
              </Space>
            ),
          },
        ]}
      />
      {editing && (
        <CodeForm
          code={editing === 'new' ? null : editing}
          onClose={(saved) => {
            setEditing(null);
            if (saved && editing === 'new') setShowing(saved);
          }}
        />
      )}
      {showing && <QrModal code={codes.data?.find((c) => c.id === showing.id) ?? showing} onClose={() => setShowing(null)} />}
    </Page>
  );
}

function OwnerName({ id }: { id: string | null }) {
  const { t } = useTranslation('channel-codes');
  const user = useQuery({
    queryKey: ['user', id],
    enabled: Boolean(id),
    queryFn: async () => (await call(api.GET('/api/users/{id}', { params: { path: { id: id! } } }))) as User,
    staleTime: 60_000,
  });
  if (!id) return <Typography.Text type="secondary">{t('noOwner')}</Typography.Text>;
  return user.data ? <span>{user.data.name}</span> : <Skeleton.Input size="small" active style={{ width: 80 }} />;
}

function QrThumb({ code, onOpen }: { code: SourceCode; onOpen(): void }) {
  const { t } = useTranslation('channel-codes');
  const qr = useQrCode(code.joinUrl, 240);
  return (
    <button type="button" onClick={onOpen} aria-label={t('actions.qr')} style={{ padding: 0, border: 0, background: 'none', cursor: 'pointer', lineHeight: 0 }}>
      {qr.data ? <img src={qr.data} alt={t('qr.alt', { code: code.code })} width={56} height={56} /> : <Skeleton.Node active style={{ width: 56, height: 56 }} />}
    </button>
  );
}

/** The code's QR code, large, with its link to copy or open and the PNG to download (named after the code). */
function QrModal({ code, onClose }: { code: SourceCode; onClose(): void }) {
  const { t } = useTranslation('channel-codes');
  const qr = useQrCode(code.joinUrl, 640);
  function downloadPng() {
    if (!qr.data) return;
    const link = Object.assign(document.createElement('a'), { href: qr.data, download: `${code.code}.png` });
    document.body.appendChild(link);
    link.click();
    link.remove();
  }
  return (
    <Modal open title={t('qr.title', { name: code.name })} onCancel={onClose} footer={<Button onClick={onClose}>{t('common:actions.close')}</Button>} width={480} data-testid="qr-modal">
      <Flex vertical align="center" gap={12}>
        {qr.error ? <Alert type="error" showIcon message={t('qr.failed')} /> : qr.data
          ? <img src={qr.data} alt={t('qr.alt', { code: code.code })} width={260} height={260} data-testid="qr-image" style={{ border: '1px solid #f0f0f0', borderRadius: 8 }} />
          : <Skeleton.Node active style={{ width: 260, height: 260 }} />}
        <Typography.Text code style={{ fontSize: 15 }}>{code.code}</Typography.Text>
        <Flex gap="small" wrap justify="center">
          <Button type="primary" icon={<DownloadOutlined />} disabled={!qr.data} onClick={downloadPng} data-testid="qr-download">{t('qr.download')}</Button>
          <Button icon={<ExportOutlined />} href={code.joinUrl} target="_blank" rel="noopener noreferrer">{t('qr.open')}</Button>
        </Flex>
        <div style={{ width: '100%' }}>
          <Typography.Text strong>{t('qr.link')}</Typography.Text>
          <Typography.Paragraph copyable={{ text: code.joinUrl, tooltips: [t('common:actions.copy'), t('common:actions.copied')] }} style={{ marginBottom: 4, wordBreak: 'break-all' }}>
            <span data-testid="join-link">{code.joinUrl}</span>
          </Typography.Paragraph>
          <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>{t('qr.explain')}</Typography.Paragraph>
        </div>
        {code.wecomContactWay && <WecomQr code={code} way={code.wecomContactWay} />}
        {code.wecomLeftover && <WecomLeftover code={code} leftover={code.wecomLeftover} />}
      </Flex>
    </Modal>
  );
}

/** The WeCom "contact me" QR code (the image WeCom hosts): a scan adds one of its employees on WeCom and arrives through the code. */
function WecomQr({ code, way }: { code: SourceCode; way: NonNullable<SourceCode['wecomContactWay']> }) {
  const { t } = useTranslation('channel-codes');
  const message = useMessage();
  // WeCom hosts the image on another origin, where a link may open rather than save it: the API reads it and
  // answers it as an attachment, fetched with the sign-in's token and handed to the browser as a file
  const download = useMutation({
    mutationFn: () => downloadFromApi(`/api/source-codes/${code.id}/wecom-qr`, `${code.code}-wecom.png`),
    onError: (e) => message.error(refusalText(t, 'channel-codes', e)),
  });
  return (
    <>
      <Divider style={{ margin: '4px 0' }}>{t('wecom.title')}</Divider>
      <img src={way.qrCode} alt={t('wecom.alt', { code: code.code })} width={200} height={200} data-testid="wecom-qr-image" style={{ border: '1px solid #f0f0f0', borderRadius: 8 }} />
      <Typography.Text type="secondary">{t('wecom.members', { members: way.wecomUserIds.join('、') })}</Typography.Text>
      <Button icon={<DownloadOutlined />} loading={download.isPending} onClick={() => download.mutate()} data-testid="wecom-qr-download">
        {t('wecom.download')}
      </Button>
      <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>{t('wecom.explain')}</Typography.Paragraph>
    </>
  );
}

/**
 * WeCom "contact me" configurations the code no longer uses that could not be deleted in WeCom (on disconnect, or
 * when its QR code was taken off or replaced): why, and a retry (deleted in WeCom now) or forget (here only).
 */
function WecomLeftover({ code, leftover }: { code: SourceCode; leftover: NonNullable<SourceCode['wecomLeftover']> }) {
  const { t } = useTranslation('channel-codes');
  const message = useMessage();
  const queries = useQueryClient();
  const clear = useMutation({
    mutationFn: (forget: boolean) => call(api.DELETE('/api/source-codes/{id}/wecom-leftover', {
      params: { path: { id: code.id }, query: forget ? { forget: 'true' } : {} },
    })),
    onSuccess: (_, forget) => message.success(forget ? t('leftover.forgotten') : t('leftover.deleted')),
    // the common texts speak of saving settings: here nothing was to be saved, the leftover is simply still there
    onError: (e) => message.error(e instanceof ApiError && e.code === 'WECOM_UNREACHABLE' ? t('leftover.unreachable')
      : e instanceof ApiError && e.code === 'WECOM_CONTACT_WAY_REFUSED' && e.details[0] ? t('leftover.refused', { problem: e.details[0].problem })
        : refusalText(t, 'channel-codes', e)),
    // not awaited: the buttons are free again at once (a click while they show loading is ignored)
    onSettled: () => void queries.invalidateQueries({ queryKey: ['source-codes'] }),
  });
  return (
    <Alert
      type="warning"
      showIcon
      style={{ width: '100%' }}
      data-testid="wecom-leftover"
      message={t('leftover.title', { count: leftover.configIds.length })}
      description={(
        <Space direction="vertical" size={4} style={{ width: '100%' }}>
          <span>{t(`leftover.reason.${leftover.reason}`)} {t('leftover.explain')}</span>
          <Typography.Text type="secondary">{t('leftover.error', { error: wecomFailureText(t, leftover.error), at: formatDateTime(leftover.triedAt) })}</Typography.Text>
          <Space wrap>
            <Button size="small" type="primary" loading={clear.isPending && !clear.variables} onClick={() => clear.mutate(false)} data-testid="wecom-leftover-retry">
              {t('leftover.retry')}
            </Button>
            <Popconfirm title={t('leftover.forgetConfirm')} okText={t('leftover.forget')} onConfirm={() => clear.mutateAsync(true)}>
              <Button size="small" danger loading={clear.isPending && clear.variables} data-testid="wecom-leftover-forget">{t('leftover.forget')}</Button>
            </Popconfirm>
          </Space>
        </Space>
      )}
    />
  );
}

/** Create or edit a code: browser checks as the user types, the API's refusals at their fields. */
function CodeForm({ code, onClose }: { code: SourceCode | null; onClose(saved?: SourceCode): void }) {
  const { t } = useTranslation('channel-codes');
  const message = useMessage();
  const queries = useQueryClient();
  const [form] = Form.useForm<FormValues>();
  const [rest, setRest] = useState<string[]>([]);
  const save = useMutation({
    mutationFn: (v: FormValues) => {
      // the QR code: given (created or changed), null (taken off a code that had one), or left as it is
      const wecomContactWay = v.wecomQr ? { userIds: v.wecomContactWay?.userIds ?? [] } : code?.wecomContactWay ? null : undefined;
      const body = { name: v.name.trim(), code: v.code.trim(), tagIds: v.tagIds ?? [], ownerId: v.ownerId ?? null, wecomContactWay };
      return code
        ? call(api.PATCH('/api/source-codes/{id}', { params: { path: { id: code.id } }, body }))
        : call(api.POST('/api/source-codes', { body }));
    },
    onSuccess: (saved) => {
      message.success(code ? t('saved') : t('created'));
      void queries.invalidateQueries({ queryKey: ['source-codes'] });
      onClose(saved);
    },
    onError: (e) => {
      setRest(applyWordedFieldErrors(form, e, t, PROBLEMS, listField));
      message.error(refusalText(t, 'channel-codes', e));
    },
  });
  return (
    <Modal
      open
      title={code ? t('form.editTitle') : t('form.createTitle')}
      onCancel={() => onClose()}
      onOk={() => form.submit()}
      okText={t('common:actions.save')}
      confirmLoading={save.isPending}
      okButtonProps={{ 'data-testid': 'save-code' } as ButtonProps}
      destroyOnHidden
      width={560}
    >
      <Form<FormValues>
        form={form}
        layout="vertical"
        validateTrigger={['onChange', 'onBlur']}
        initialValues={code
          ? { name: code.name, code: code.code, tagIds: code.tagIds, ownerId: code.ownerId, wecomQr: Boolean(code.wecomContactWay), wecomContactWay: { userIds: code.wecomContactWay?.userIds ?? [] } }
          : { tagIds: [], wecomQr: false, wecomContactWay: { userIds: [] } }}
        onFinish={(v) => { setRest([]); save.mutate(v); }}
        data-testid="code-form"
      >
        <Form.Item name="name" label={t('form.name')} rules={[{ required: true, whitespace: true, message: t('form.nameRequired') }, { max: 200 }]}>
          <Input placeholder={t('form.namePlaceholder')} maxLength={200} />
        </Form.Item>
        <Form.Item
          name="code"
          label={t('form.code')}
          extra={t('form.codeHelp')}
          dependencies={['wecomQr']}
          rules={[
            { required: true, message: t('form.codeRequired') }, { pattern: CODE_PATTERN, message: t('form.codePattern') },
            ({ getFieldValue }) => ({
              validator: (_, value?: string) => (getFieldValue('wecomQr') && (value ?? '').trim().length > WECOM_STATE_MAX
                ? Promise.reject(new Error(t('problems.wecomState'))) : Promise.resolve()),
            }),
          ]}
        >
          <Input placeholder={t('form.codePlaceholder')} maxLength={64} autoComplete="off" />
        </Form.Item>
        <Form.Item name="wecomQr" label={t('form.wecomQr')} extra={t('form.wecomQrHelp')} valuePropName="checked">
          <Switch data-testid="wecom-qr-switch" />
        </Form.Item>
        <Form.Item noStyle dependencies={['wecomQr']}>
          {({ getFieldValue }) => getFieldValue('wecomQr') && (
            <Form.Item
              name={['wecomContactWay', 'userIds']}
              label={t('form.wecomUsers')}
              extra={t('form.wecomUsersHelp')}
              rules={[{ required: true, type: 'array', min: 1, message: t('form.wecomUsersRequired') }]}
            >
              <UserSelect mode="multiple" aria-label={t('form.wecomUsers')} placeholder={t('form.wecomUsersPlaceholder')} data-testid="wecom-users" />
            </Form.Item>
          )}
        </Form.Item>
        <Form.Item name="tagIds" label={t('form.tags')} extra={t('form.tagsHelp')} rules={[{ type: 'array', max: 20, message: t('form.tagsMax') }]}>
          <TagSelect aria-label={t('form.tags')} />
        </Form.Item>
        <Form.Item name="ownerId" label={t('form.owner')} extra={t('form.ownerHelp')}>
          <UserSelect aria-label={t('form.owner')} placeholder={t('form.ownerPlaceholder')} />
        </Form.Item>
        {rest.length > 0 && <Alert type="error" showIcon message={rest.join('; ')} />}
      </Form>
    </Modal>
  );
}
