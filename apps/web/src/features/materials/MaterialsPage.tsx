import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  AutoComplete, Button, Descriptions, Drawer, Empty, Flex, Form, Input, List, Modal, Select, Space, Statistic, Table, Tag, Typography,
} from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, call } from '../../api/client';
import { useTagIndex } from '../../api/directory';
import { useMessage } from '../../app/feedback';
import { Page } from '../../app/Page';
import { FormDrawer } from '../../components/FormDrawer';
import { TagSelect, tagStyle } from '../../components/TagSelect';
import { addMessages } from '../../i18n';
import { applyFieldErrors, errorText } from '../../lib/errors';
import { formatDateTime } from '../../lib/time';
import { type Material, MATERIAL_KINDS, type MaterialFilter, type MaterialKind, useMaterialPages } from './material-queries';
import { messages } from './messages';

addMessages('materials', messages);

type MaterialInput = Pick<Material, 'kind' | 'title' | 'url' | 'summary' | 'folder' | 'tagIds'> & { coverUrl?: string | null };

/** The material library: reusable content in folders, searchable, with where each is used and how often it was opened. */
export default function MaterialsPage() {
  const { t } = useTranslation('materials');
  const [filter, setFilter] = useState<MaterialFilter>({});
  const [editing, setEditing] = useState<Material | 'new' | null>(null);
  const [shown, setShown] = useState<string | null>(null);
  const pages = useMaterialPages(filter);
  const folders = useFolders();
  const { index } = useTagIndex();
  const items = pages.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Page title={t('title')} extra={<Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="new-material">{t('newMaterial')}</Button>}>
      <Flex gap="small" wrap style={{ marginBottom: 12 }}>
        <Input.Search allowClear placeholder={t('search')} aria-label={t('search')} style={{ width: 260 }} data-testid="material-search"
          onSearch={(q) => setFilter((f) => ({ ...f, q: q.trim() || undefined }))} />
        <Select<string> allowClear placeholder={t('allFolders')} aria-label={t('columns.folder')} style={{ width: 200 }} value={filter.folder}
          onChange={(folder) => setFilter((f) => ({ ...f, folder }))} data-testid="material-folder-filter"
          options={(folders.data ?? []).map((f) => ({ value: f.name, label: `${f.name || t('topFolder')} (${f.materials})` }))} />
        <Select<MaterialKind> allowClear placeholder={t('anyKind')} aria-label={t('columns.kind')} style={{ width: 160 }} value={filter.kind}
          onChange={(kind) => setFilter((f) => ({ ...f, kind }))} options={MATERIAL_KINDS.map((k) => ({ value: k, label: t(`kinds.${k}`) }))} />
      </Flex>
      <Table<Material>
        rowKey="id"
        size="middle"
        loading={pages.isPending}
        dataSource={items}
        pagination={false}
        scroll={{ x: 860 }}
        locale={{ emptyText: <Empty description={t('empty')} /> }}
        onRow={(m) => ({ onClick: () => setShown(m.id), style: { cursor: 'pointer' }, 'data-testid': `material-row-${m.title}` } as React.HTMLAttributes<HTMLElement>)}
        columns={[
          { title: t('columns.title'), dataIndex: 'title', render: (title: string, m) => (
            <Flex gap="small" align="center">
              {m.coverUrl && <img src={m.coverUrl} alt="" width={32} height={32} style={{ objectFit: 'cover', borderRadius: 4 }} />}
              <span><Typography.Link>{title}</Typography.Link>{m.summary && <Typography.Text type="secondary" ellipsis style={{ display: 'block', maxWidth: 320 }}>{m.summary}</Typography.Text>}</span>
            </Flex>
          ) },
          { title: t('columns.kind'), dataIndex: 'kind', width: 130, render: (k: MaterialKind) => <Tag>{t(`kinds.${k}`)}</Tag> },
          { title: t('columns.folder'), dataIndex: 'folder', width: 140, render: (f: string) => f || t('topFolder') },
          { title: t('columns.tags'), dataIndex: 'tagIds', width: 200, render: (ids: string[]) => ids.map((id) => (
            <Tag key={id} style={tagStyle(index.get(id)?.color)}>{index.get(id)?.name ?? id.slice(0, 8)}</Tag>)) },
          { title: t('columns.used'), key: 'sops', width: 110, align: 'right', render: (_, m) => m.stats.sops },
          { title: t('columns.opens'), key: 'opens', width: 100, align: 'right', render: (_, m) => <span data-testid={`material-opens-${m.title}`}>{m.stats.opens}</span> },
        ]}
      />
      {pages.hasNextPage && <Button style={{ marginTop: 12 }} loading={pages.isFetchingNextPage} onClick={() => void pages.fetchNextPage()}>{t('more')}</Button>}
      {shown && <MaterialDetail id={shown} onClose={() => setShown(null)} onEdit={(m) => { setShown(null); setEditing(m); }} />}
      {editing && <MaterialForm material={editing === 'new' ? undefined : editing} onClose={() => setEditing(null)} />}
    </Page>
  );
}

function useFolders() {
  return useQuery({ queryKey: ['materials', 'folders'], queryFn: () => call(api.GET('/api/materials/folders')) });
}

/** A material with its results and every SOP, version and step that uses it. */
function MaterialDetail({ id, onClose, onEdit }: { id: string; onClose(): void; onEdit(m: Material): void }) {
  const { t } = useTranslation('materials');
  const message = useMessage();
  const queries = useQueryClient();
  const [modal, holder] = Modal.useModal();
  const detail = useQuery({ queryKey: ['materials', 'one', id], queryFn: () => call(api.GET('/api/materials/{id}', { params: { path: { id } } })) });
  const m = detail.data;
  const remove = async () => {
    if (!m || !(await modal.confirm({ title: t('detail.deleteConfirm', { title: m.title }), okButtonProps: { danger: true } }))) return;
    try {
      await call(api.DELETE('/api/materials/{id}', { params: { path: { id } } }));
      message.success(t('done.deleted'));
      void queries.invalidateQueries({ queryKey: ['materials'] });
      onClose();
    } catch (e) {
      message.error(errorText(e));
    }
  };
  return (
    <Drawer open title={m?.title} size={560} onClose={onClose} loading={detail.isPending}
      extra={m && <Space><Button danger onClick={() => void remove()}>{t('detail.delete')}</Button><Button type="primary" onClick={() => onEdit(m)} data-testid="material-edit">{t('detail.edit')}</Button></Space>}>
      {holder}
      {m && (
        <Flex vertical gap="large" data-testid="material-detail">
          <Descriptions size="small" column={1} items={[
            { key: 'kind', label: t('fields.kind'), children: t(`kinds.${m.kind}`) },
            { key: 'url', label: t('fields.url'), children: <Typography.Link href={m.url} target="_blank" rel="noreferrer" copyable>{m.url}</Typography.Link> },
            { key: 'folder', label: t('fields.folder'), children: m.folder || t('topFolder') },
            ...(m.summary ? [{ key: 'summary', label: t('fields.summary'), children: m.summary }] : []),
            { key: 'updated', label: t('columns.updated'), children: formatDateTime(m.updatedAt) },
          ]} />
          <div>
            <Typography.Title level={5}>{t('detail.stats')}</Typography.Title>
            <Flex gap="large" wrap data-testid="material-stats">
              <Statistic title={t('detail.sops')} value={m.stats.sops} />
              <Statistic title={t('detail.sent')} value={m.stats.sent} />
              <Statistic title={t('detail.opens')} value={m.stats.opens} />
              <Statistic title={t('detail.openedContacts')} value={m.stats.openedContacts} />
            </Flex>
          </div>
          {m.usage && <div>
            <Typography.Title level={5}>{t('detail.usage')}</Typography.Title>
            <List size="small" data-testid="material-usage" locale={{ emptyText: t('detail.noUsage') }} dataSource={m.usage}
              renderItem={(u) => (
                <List.Item>
                  <Space wrap>
                    <Link to={`/sops/${u.sopId}`}>{u.sopName}</Link>
                    <Tag>{u.version === null ? t('detail.workingCopy') : t('detail.version', { version: u.version })}</Tag>
                    <span>{t('detail.step', { n: u.stepIndex + 1, name: u.stepName })}</span>
                    {!u.current && <Tag color="orange">{t('detail.outdated')}</Tag>}
                  </Space>
                </List.Item>
              )} />
          </div>}
        </Flex>
      )}
    </Drawer>
  );
}

/** Adds or edits a material; an edit of one that running SOPs use asks whether to publish new versions of them. */
function MaterialForm({ material, onClose }: { material?: Material; onClose(): void }) {
  const { t } = useTranslation('materials');
  const message = useMessage();
  const queries = useQueryClient();
  const [form] = Form.useForm<MaterialInput>();
  const [modal, holder] = Modal.useModal();
  const [clientId] = useState(() => crypto.randomUUID()); // a retried create answers the first one
  const folders = useFolders();
  const save = useMutation({
    mutationFn: async (v: MaterialInput) => {
      const body = { ...v, summary: v.summary ?? '', folder: v.folder ?? '', tagIds: v.tagIds ?? [], coverUrl: v.coverUrl || null };
      if (!material) return { created: await call(api.POST('/api/materials', { body: { ...body, id: clientId } })), republished: 0 };
      const republish = await askRepublish(material.id);
      const saved = await call(api.PUT('/api/materials/{id}', { params: { path: { id: material.id }, query: { republish } }, body }));
      return { created: null, republished: saved.republished.length, refused: saved.notRepublished };
    },
    onSuccess: (done) => {
      message.success(done.created ? t('done.created') : done.republished ? t('republish.done', { count: done.republished }) : t('done.saved'));
      for (const r of done.refused ?? []) message.warning(t('republish.refused', { name: r.sopName, why: r.message }), 8);
      void queries.invalidateQueries({ queryKey: ['materials'] });
      void queries.invalidateQueries({ queryKey: ['sops'] });
      onClose();
    },
    onError: (e) => {
      applyFieldErrors(form, e);
      message.error(errorText(e));
    },
  });

  /** Whether to publish new versions: the user's answer when active or paused SOPs use it, false when none does. */
  async function askRepublish(id: string): Promise<boolean> {
    const detail = await call(api.GET('/api/materials/{id}', { params: { path: { id } } }));
    const live = [...new Set((detail.usage ?? []).filter((u) => u.version === null && (u.sopStatus === 'active' || u.sopStatus === 'paused')).map((u) => u.sopName))];
    if (!live.length) return false;
    return new Promise((resolve) => {
      void modal.confirm({
        title: t('republish.title'),
        content: <span data-testid="republish-question">{t('republish.body', { names: live.map((n) => `“${n}”`).join('、') })}</span>,
        okText: t('republish.yes'),
        cancelText: t('republish.no'),
        onOk: () => resolve(true),
        onCancel: () => resolve(false),
      });
    });
  }

  return (
    <FormDrawer title={material ? t('editMaterial') : t('newMaterial')} size={520} saving={save.isPending} onSave={() => form.submit()} onClose={onClose} saveId="material-save">
      {holder}
      <Form<MaterialInput> form={form} layout="vertical" onFinish={(v) => save.mutate(v)}
        initialValues={material ?? { kind: 'link', folder: '', tagIds: [], summary: '' }}>
        <Form.Item name="kind" label={t('fields.kind')}>
          <Select options={MATERIAL_KINDS.map((k) => ({ value: k, label: t(`kinds.${k}`) }))} data-testid="material-kind" />
        </Form.Item>
        <Form.Item name="title" label={t('fields.title')} rules={[{ required: true, whitespace: true, message: t('fields.titleRequired') }]}>
          <Input maxLength={200} data-testid="material-title" />
        </Form.Item>
        <Form.Item name="url" label={t('fields.url')} extra={t('fields.urlHint')} rules={[{ required: true, whitespace: true, message: t('fields.urlRequired') }]}>
          <Input placeholder="https://" maxLength={2000} data-testid="material-url" />
        </Form.Item>
        <Form.Item name="coverUrl" label={t('fields.coverUrl')}>
          <Input placeholder="https://" maxLength={2000} />
        </Form.Item>
        <Form.Item name="summary" label={t('fields.summary')}>
          <Input.TextArea autoSize={{ minRows: 2, maxRows: 5 }} maxLength={1000} />
        </Form.Item>
        <Form.Item name="folder" label={t('fields.folder')} extra={t('fields.folderHint')}>
          <AutoComplete options={(folders.data ?? []).filter((f) => f.name).map((f) => ({ value: f.name }))} data-testid="material-folder" />
        </Form.Item>
        <Form.Item name="tagIds" label={t('fields.tags')}>
          <TagSelect data-testid="material-tags" />
        </Form.Item>
      </Form>
    </FormDrawer>
  );
}
