import { useMutation, useQueries, useQueryClient } from '@tanstack/react-query';
import { Button, Empty, Flex, Modal, Select, Table, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call, type Schemas } from '../../api/client';
import { useMessage } from '../../app/feedback';
import { errorText } from '../../lib/errors';
import { diffDefinitions } from './diff';
import { ZonedTime } from './ZonedTime';

const show = (v: unknown) => (v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

/** The SOP's published versions, the difference between any two, and moving open enrollments to the current one. */
export default function SopVersions({ sop }: { sop: Schemas['SopDetailDto'] }) {
  const { t } = useTranslation('sops');
  const message = useMessage();
  const queries = useQueryClient();
  const [modal, holder] = Modal.useModal();
  const numbers = sop.versions.map((v) => v.version);
  const [pair, setPair] = useState<[number, number]>([numbers[1] ?? numbers[0], numbers[0]]);
  const [a, b] = useQueries({
    queries: pair.map((version) => ({
      queryKey: ['sops', 'version', sop.id, version],
      queryFn: () => call(api.GET('/api/sops/{id}/versions/{version}', { params: { path: { id: sop.id, version } } })),
      staleTime: Infinity, // a published version never changes
      enabled: numbers.length > 1, // a single version shows a note, not a comparison: nothing to fetch
    })),
  });
  const migrate = useMutation({
    mutationFn: () => call(api.POST('/api/sops/{id}/migrate-enrollments', { params: { path: { id: sop.id } }, body: {} })),
    onSuccess: (r) => { message.success(t('versions.migrated', { count: r.migrated, version: r.toVersion })); void queries.invalidateQueries({ queryKey: ['sops'] }); },
    onError: (e) => message.error(errorText(e)),
  });
  const changes = a.data && b.data ? diffDefinitions(a.data.definition, b.data.definition) : [];
  const options = numbers.map((n) => ({ value: n, label: `v${n}` }));
  return (
    <Flex vertical gap="middle" data-testid="sop-versions">
      {holder}
      {numbers.length < 2 && <Typography.Text type="secondary">{t('versions.onlyOne', { version: numbers[0] })}</Typography.Text>}
      {numbers.length > 1 && <>
      <Flex gap="small" align="center" wrap>
        <Typography.Text>{t('versions.compare')}</Typography.Text>
        <Select aria-label={t('versions.from')} value={pair[0]} options={options} onChange={(v) => setPair([v, pair[1]])} style={{ width: 90 }} data-testid="version-a" />
        <Typography.Text>→</Typography.Text>
        <Select aria-label={t('versions.to')} value={pair[1]} options={options} onChange={(v) => setPair([pair[0], v])} style={{ width: 90 }} data-testid="version-b" />
        {sop.kind === 'journey' && numbers.length > 1 && (
          <Button onClick={() => void modal.confirm({ title: t('versions.migrate'), content: t('versions.migrateConfirm', { version: sop.currentVersion }), onOk: () => migrate.mutateAsync() })}
            loading={migrate.isPending} data-testid="migrate-enrollments">
            {t('versions.migrate')}
          </Button>
        )}
      </Flex>
      <Table
        size="small"
        rowKey="path"
        pagination={false}
        dataSource={changes}
        data-testid="version-diff"
        locale={{ emptyText: <Empty description={pair[0] === pair[1] ? t('versions.same') : t('versions.noChange')} /> }}
        columns={[
          { title: t('versions.field'), dataIndex: 'path', render: (p: string) => <Typography.Text code>{p}</Typography.Text> },
          { title: `v${pair[0]}`, dataIndex: 'before', render: (v: unknown) => <Typography.Text delete={v !== undefined}>{show(v)}</Typography.Text> },
          { title: `v${pair[1]}`, dataIndex: 'after', render: (v: unknown) => <Typography.Text strong>{show(v)}</Typography.Text> },
        ]}
      />
      </>}
      <Flex vertical gap={2} data-testid="version-times">
        {sop.versions.map((v) => (
          <Typography.Text key={v.version} type="secondary">v{v.version} · {t('versions.publishedAt')} <ZonedTime at={v.publishedAt} zone={sop.definition.timezone ?? 'Asia/Shanghai'} /></Typography.Text>
        ))}
      </Flex>
    </Flex>
  );
}
