import { Empty, Input, List, Modal, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { addMessages } from '../../i18n';
import { type Material, useMaterialPages } from './material-queries';
import { messages } from './messages';

addMessages('materials', messages);

/** Picks a material of the library for a step: searchable, newest first. */
export function MaterialPicker({ onPick, onClose }: { onPick(m: Material): void; onClose(): void }) {
  const { t } = useTranslation('materials');
  const [q, setQ] = useState<string>();
  const pages = useMaterialPages({ q }, 20);
  const items = pages.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Modal open title={t('picker.title')} onCancel={onClose} footer={<Link to="/materials" target="_blank">{t('picker.openLibrary')}</Link>} destroyOnHidden>
      <Input.Search allowClear autoFocus placeholder={t('picker.search')} aria-label={t('picker.search')} onSearch={(v) => setQ(v.trim() || undefined)}
        data-testid="material-picker-search" />
      <List<Material> size="small" loading={pages.isPending} dataSource={items} style={{ marginTop: 12, maxHeight: 360, overflow: 'auto' }}
        locale={{ emptyText: <Empty description={t('picker.none')} /> }}
        loadMore={pages.hasNextPage ? <Typography.Link onClick={() => void pages.fetchNextPage()}>{t('more')}</Typography.Link> : null}
        renderItem={(m) => (
          <List.Item key={m.id} onClick={() => onPick(m)} style={{ cursor: 'pointer' }} data-testid={`pick-${m.title}`}
            extra={<Tag>{t(`kinds.${m.kind}`)}</Tag>}>
            <List.Item.Meta title={m.title} description={<Typography.Text type="secondary" ellipsis>{m.folder ? `${m.folder} · ` : ''}{m.url}</Typography.Text>} />
          </List.Item>
        )} />
    </Modal>
  );
}
