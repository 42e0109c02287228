import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Empty, Flex, Input, Select, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, call, type Schemas } from '../../api/client';
import { useUsers } from '../../api/directory';
import { Page } from '../../app/Page';
import { TagSelect, tagStyle } from '../../components/TagSelect';
import { UserSelect } from '../../components/UserSelect';
import { addMessages } from '../../i18n';
import { errorText } from '../../lib/errors';
import { formatDateTime } from '../../lib/time';
import { messages } from './messages';
import { useMessage } from '../../app/feedback';

addMessages('contacts', messages);

type Contact = Schemas['ContactDto'];
interface Filter { q?: string; tagIds?: string[]; ownerId?: string }

/** Customers: search, filter by tags and owner, open one, and tag a selection or a whole segment at once. */
export default function ContactsPage() {
  const { t } = useTranslation('contacts');
  const [filter, setFilter] = useState<Filter>({});
  const [selected, setSelected] = useState<string[]>([]);
  const owners = useUsers({});
  const ownerName = new Map((owners.data ?? []).map((u) => [u.id, u.name]));
  const pages = useInfiniteQuery({
    queryKey: ['contacts', filter],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => call(api.GET('/api/contacts', { params: { query: {
      limit: 50, ...(filter.q ? { q: filter.q } : {}), ...(filter.ownerId ? { ownerId: filter.ownerId } : {}),
      ...(filter.tagIds?.length ? { tagIds: filter.tagIds } : {}), ...(pageParam ? { cursor: pageParam } : {}),
    } } })),
    getNextPageParam: (p) => p.nextCursor ?? undefined,
  });
  const contacts = pages.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Page title={t('title')}>
      <Flex gap="small" wrap style={{ marginBottom: 12 }}>
        <Input.Search allowClear placeholder={t('search')} aria-label={t('search')} style={{ width: 280 }} onSearch={(q) => setFilter((f) => ({ ...f, q: q.trim() || undefined }))} data-testid="contact-search" />
        <TagSelect placeholder={t('anyTag')} aria-label={t('anyTag')} style={{ width: 280 }} value={filter.tagIds ?? []} onChange={(ids) => setFilter((f) => ({ ...f, tagIds: ids as string[] }))} data-testid="contact-tag-filter" />
        <UserSelect placeholder={t('anyOwner')} aria-label={t('owner')} style={{ width: 200 }} value={filter.ownerId} onChange={(ownerId) => setFilter((f) => ({ ...f, ownerId }))} />
      </Flex>
      {selected.length > 0 && <BulkTagBar contactIds={selected} onDone={() => setSelected([])} />}
      <Table<Contact>
        rowKey="id" size="middle" loading={pages.isPending} dataSource={contacts} pagination={false}
        rowSelection={{ selectedRowKeys: selected, onChange: (keys) => setSelected(keys as string[]) }}
        locale={{ emptyText: <Empty description={t('empty')} /> }}
        columns={[
          { title: t('columns.name'), dataIndex: 'name', render: (name: string, c) => <Link to={`/contacts/${c.id}`}>{name}</Link> },
          { title: t('columns.externalId'), dataIndex: 'externalId' },
          { title: t('columns.phone'), dataIndex: 'phone' },
          { title: t('columns.tags'), dataIndex: 'tags', render: (tags: Contact['tags']) => tags.map((x) => <Tag key={x.id} style={tagStyle(x.color)}>{x.name}</Tag>) },
          { title: t('columns.owner'), dataIndex: 'ownerId', render: (id: string | null) => (id ? ownerName.get(id) ?? '—' : '—') },
          { title: t('columns.lastContacted'), dataIndex: 'lastContactedAt', render: formatDateTime },
          { title: t('columns.lastResponded'), dataIndex: 'lastRespondedAt', render: formatDateTime },
          { title: t('columns.spend'), dataIndex: 'totalSpend', align: 'right', render: (v: number) => v.toLocaleString() },
          { title: t('columns.orders'), dataIndex: 'orderCount', align: 'right' },
        ]}
      />
      {pages.hasNextPage && <Button block style={{ marginTop: 8 }} loading={pages.isFetchingNextPage} onClick={() => void pages.fetchNextPage()}>{t('common:actions.loadMore')}</Button>}
    </Page>
  );
}

/** Add and remove tags for the selected contacts, or for every member of a saved segment. */
function BulkTagBar({ contactIds, onDone }: { contactIds: string[]; onDone(): void }) {
  const { t } = useTranslation('contacts');
  const message = useMessage();
  const queries = useQueryClient();
  const [add, setAdd] = useState<string[]>([]);
  const [remove, setRemove] = useState<string[]>([]);
  const [segmentId, setSegmentId] = useState<string>();
  const segments = useQuery({ queryKey: ['segments'], queryFn: () => call(api.GET('/api/segments')) });
  async function apply(target: { contactIds: string[] } | { segmentId: string }) {
    try {
      const r = await call(api.POST('/api/contacts/bulk-tags', { body: { ...target, add, remove } }));
      message.success(t('bulk.done', { contacts: r.contacts, added: r.added, removed: r.removed }));
      void queries.invalidateQueries({ queryKey: ['contacts'] });
      onDone();
    } catch (e) {
      message.error(errorText(e));
    }
  }
  const nothing = !add.length && !remove.length;
  return (
    <Flex className="bulk-tag-bar" gap="small" wrap align="center" data-testid="bulk-tag-bar">
      <Typography.Text strong>{t('bulk.selected', { n: contactIds.length })}</Typography.Text>
      <TagSelect placeholder={t('bulk.add')} aria-label={t('bulk.add')} value={add} onChange={(ids) => setAdd(ids as string[])} style={{ width: 220 }} data-testid="bulk-add" />
      <TagSelect placeholder={t('bulk.remove')} aria-label={t('bulk.remove')} value={remove} onChange={(ids) => setRemove(ids as string[])} style={{ width: 220 }} />
      <Button type="primary" disabled={nothing} onClick={() => void apply({ contactIds })} data-testid="bulk-apply">{t('bulk.apply')}</Button>
      <Typography.Text type="secondary">{t('bulk.segment')}</Typography.Text>
      <Select allowClear placeholder={t('bulk.pickSegment')} aria-label={t('bulk.pickSegment')} style={{ width: 200 }} value={segmentId} onChange={setSegmentId}
        options={(segments.data ?? []).map((s) => ({ value: s.id, label: s.name }))} />
      <Button disabled={nothing || !segmentId} onClick={() => void apply({ segmentId: segmentId! })}>{t('bulk.applySegment')}</Button>
    </Flex>
  );
}
