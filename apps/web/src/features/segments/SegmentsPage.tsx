import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Empty, Popconfirm, Space, Table } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { api, call, type Schemas } from '../../api/client';
import { Page } from '../../app/Page';
import { addMessages } from '../../i18n';
import { errorText } from '../../lib/errors';
import { formatDateTime } from '../../lib/time';
import { messages } from './messages';
import './segments.css';
import { useMessage } from '../../app/feedback';

addMessages('segments', messages);

type Segment = Schemas['SegmentDto'];

/** Saved segments: open one to edit it and see its members; delete what no SOP uses. */
export default function SegmentsPage() {
  const { t } = useTranslation('segments');
  const message = useMessage();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const segments = useQuery({ queryKey: ['segments'], queryFn: () => call(api.GET('/api/segments')) });
  const remove = useMutation({
    mutationFn: (id: string) => call(api.DELETE('/api/segments/{id}', { params: { path: { id } } })),
    onSuccess: () => { message.success(t('deleted')); void queries.invalidateQueries({ queryKey: ['segments'] }); },
    onError: (e) => message.error(errorText(e), 6), // a refusal names the SOPs that still target it
  });
  return (
    <Page title={t('title')} extra={<Button type="primary" icon={<PlusOutlined />} onClick={() => navigate('/segments/new')}>{t('newSegment')}</Button>}>
      <Table<Segment>
        rowKey="id"
        size="middle"
        loading={segments.isPending}
        dataSource={segments.data ?? []}
        locale={{ emptyText: <Empty description={t('empty')} /> }}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        columns={[
          { title: t('columns.name'), dataIndex: 'name', sorter: (a, b) => a.name.localeCompare(b.name), render: (name: string, s) => <Link to={`/segments/${s.id}`}>{name}</Link> },
          { title: t('columns.description'), dataIndex: 'description', ellipsis: true },
          { title: t('columns.updated'), dataIndex: 'updatedAt', width: 180, sorter: (a, b) => a.updatedAt.localeCompare(b.updatedAt), render: formatDateTime },
          {
            title: t('columns.actions'), key: 'actions', width: 140,
            render: (_, s) => (
              <Space>
                <Link to={`/segments/${s.id}`}>{t('common:actions.edit')}</Link>
                <Popconfirm title={t('common:confirmDelete', { name: s.name })} onConfirm={() => remove.mutate(s.id)} okButtonProps={{ danger: true }}>
                  <Button type="link" danger size="small">{t('common:actions.delete')}</Button>
                </Popconfirm>
              </Space>
            ),
          },
        ]}
      />
    </Page>
  );
}
