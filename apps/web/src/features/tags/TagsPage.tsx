import { PlusOutlined, QuestionCircleOutlined } from '@ant-design/icons';
import { useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Card, ColorPicker, Empty, Flex, Form, Input, InputNumber, Modal, Popconfirm, Select, Switch, Tag, Tooltip, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client';
import { useTagGroups } from '../../api/directory';
import type { Tag as TagModel, TagGroup, TagKind } from '../../api/models';
import { Page } from '../../app/Page';
import { tagStyle } from '../../components/TagSelect';
import { addMessages } from '../../i18n';
import { applyFieldErrors, errorText } from '../../lib/errors';
import { messages } from './messages';
import { useMessage } from '../../app/feedback';

addMessages('tags', messages);

const KINDS: TagKind[] = ['manual', 'source', 'behaviour', 'computed'];
const PALETTE = ['#1677ff', '#13c2c2', '#52c41a', '#faad14', '#fa541c', '#f5222d', '#eb2f96', '#722ed1', '#2f54eb', '#8c8c8c'];

/** The tag system: groups (exclusive or not) with their tags, kinds, colours and weights. */
export default function TagsPage() {
  const { t } = useTranslation('tags');
  const message = useMessage();
  const queries = useQueryClient();
  const groups = useTagGroups();
  const [groupForm, setGroupForm] = useState<TagGroup | 'new' | null>(null);
  const [tagForm, setTagForm] = useState<{ group: TagGroup; tag?: TagModel } | null>(null);
  const refresh = () => void queries.invalidateQueries({ queryKey: ['tag-groups'] });
  const remove = async (work: Promise<unknown>) => {
    try {
      await work;
      message.success(t('deleted'));
      refresh();
    } catch (e) {
      message.error(errorText(e), 6); // a refusal names what still uses the tag (segments, SOPs, rules…)
    }
  };
  return (
    <Page title={t('title')} extra={<Button type="primary" icon={<PlusOutlined />} onClick={() => setGroupForm('new')}>{t('addGroup')}</Button>}>
      {groups.data?.length === 0 && <Empty description={t('empty')} />}
      <Flex vertical gap="middle">
        {(groups.data ?? []).map((group) => (
          <Card key={group.id} size="small" data-tag-group={group.name}
            title={<Flex gap="small" align="center">{group.name}{group.exclusive && <Tooltip title={t('exclusiveHelp')}><Tag color="purple">{t('exclusive')} <QuestionCircleOutlined /></Tag></Tooltip>}<Typography.Text type="secondary" style={{ fontWeight: 'normal' }}>{t('tagsCount', { count: group.tags.length })}</Typography.Text></Flex>}
            extra={<Flex gap={4}>
              <Button size="small" icon={<PlusOutlined />} onClick={() => setTagForm({ group })}>{t('addTag')}</Button>
              <Button size="small" type="link" onClick={() => setGroupForm(group)}>{t('common:actions.edit')}</Button>
              <Popconfirm title={t('deleteGroup', { name: group.name })} okButtonProps={{ danger: true }} onConfirm={() => void remove(call(api.DELETE('/api/tag-groups/{id}', { params: { path: { id: group.id } } })))}>
                <Button size="small" type="link" danger>{t('common:actions.delete')}</Button>
              </Popconfirm>
            </Flex>}>
            {group.tags.length === 0 ? <Typography.Text type="secondary">{t('noTags')}</Typography.Text> : (
              <Flex wrap gap="small">
                {group.tags.map((tag) => (
                  <Flex key={tag.id} align="center" gap={2} className="tag-chip" data-tag={tag.name}>
                    <Tag style={{ ...tagStyle(tag.color), marginInlineEnd: 0, cursor: 'pointer' }} onClick={() => setTagForm({ group, tag })}>
                      {tag.name}{tag.weight !== null ? ` · ${tag.weight}` : ''}
                    </Tag>
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t(`kinds.${tag.kind}`)}</Typography.Text>
                    <Popconfirm title={t('deleteTag', { name: tag.name })} okButtonProps={{ danger: true }} onConfirm={() => void remove(call(api.DELETE('/api/tags/{id}', { params: { path: { id: tag.id } } })))}>
                      <Button size="small" type="text" danger aria-label={`${t('common:actions.delete')} ${tag.name}`}>×</Button>
                    </Popconfirm>
                  </Flex>
                ))}
              </Flex>
            )}
          </Card>
        ))}
      </Flex>
      {groupForm && <GroupForm group={groupForm === 'new' ? null : groupForm} onClose={() => setGroupForm(null)} onSaved={refresh} />}
      {tagForm && <TagForm {...tagForm} onClose={() => setTagForm(null)} onSaved={refresh} />}
    </Page>
  );
}

function useSave(onSaved: () => void, onClose: () => void) {
  const { t } = useTranslation('tags');
  const message = useMessage();
  const [form] = Form.useForm();
  const [problem, setProblem] = useState<string[]>([]);
  const save = async (work: () => Promise<unknown>) => {
    setProblem([]);
    try {
      await work();
      message.success(t('saved'));
      onSaved();
      onClose();
    } catch (e) {
      setProblem([errorText(e), ...applyFieldErrors(form, e)]);
    }
  };
  return { form, problem, save };
}

function GroupForm({ group, onClose, onSaved }: { group: TagGroup | null; onClose(): void; onSaved(): void }) {
  const { t } = useTranslation('tags');
  const { form, problem, save } = useSave(onSaved, onClose);
  return (
    <Modal open title={group ? t('editGroup') : t('addGroup')} onCancel={onClose} onOk={() => form.submit()} okText={t('common:actions.save')} destroyOnHidden>
      <Form form={form} layout="vertical" initialValues={group ?? { exclusive: false }} onFinish={(v: { name: string; exclusive: boolean }) => void save(() => (group
        ? call(api.PATCH('/api/tag-groups/{id}', { params: { path: { id: group.id } }, body: { name: v.name.trim(), exclusive: group.exclusive } }))
        : call(api.POST('/api/tag-groups', { body: { name: v.name.trim(), exclusive: v.exclusive } }))))}>
        <Form.Item name="name" label={t('groupName')} rules={[{ required: true, whitespace: true, message: t('nameRequired') }]}><Input maxLength={100} placeholder="购买意向" /></Form.Item>
        <Form.Item name="exclusive" label={t('exclusive')} valuePropName="checked" extra={t('exclusiveHelp')}><Switch disabled={Boolean(group)} /></Form.Item>
      </Form>
      {problem.length > 0 && <Alert type="error" showIcon message={problem.join(' ')} />}
    </Modal>
  );
}

function TagForm({ group, tag, onClose, onSaved }: { group: TagGroup; tag?: TagModel; onClose(): void; onSaved(): void }) {
  const { t } = useTranslation('tags');
  const { form, problem, save } = useSave(onSaved, onClose);
  type Values = { name: string; kind: TagKind; color: string | { toHexString(): string }; weight?: number | null };
  const hex = (c: Values['color']) => (typeof c === 'string' ? c : c.toHexString());
  return (
    <Modal open title={`${tag ? t('editTag') : t('addTag')} · ${group.name}`} onCancel={onClose} onOk={() => form.submit()} okText={t('common:actions.save')} destroyOnHidden>
      <Form form={form} layout="vertical" initialValues={tag ?? { kind: 'manual', color: PALETTE[0] }} onFinish={(v: Values) => void save(() => (tag
        ? call(api.PATCH('/api/tags/{id}', { params: { path: { id: tag.id } }, body: { name: v.name.trim(), color: hex(v.color), weight: v.weight ?? null } }))
        : call(api.POST('/api/tags', { body: { groupId: group.id, name: v.name.trim(), kind: v.kind, color: hex(v.color), weight: v.weight ?? null } }))))}>
        <Form.Item name="name" label={t('tagName')} rules={[{ required: true, whitespace: true, message: t('nameRequired') }]}><Input maxLength={100} /></Form.Item>
        <Form.Item name="kind" label={t('kind')}><Select disabled={Boolean(tag)} options={KINDS.map((k) => ({ value: k, label: t(`kinds.${k}`) }))} /></Form.Item>
        <Form.Item name="color" label={t('color')}><ColorPicker presets={[{ label: t('color'), colors: PALETTE }]} disabledAlpha /></Form.Item>
        <Form.Item name="weight" label={t('weight')} extra={t('weightHelp')}><InputNumber min={0} max={100} /></Form.Item>
      </Form>
      {problem.length > 0 && <Alert type="error" showIcon message={problem.join(' ')} />}
    </Modal>
  );
}
