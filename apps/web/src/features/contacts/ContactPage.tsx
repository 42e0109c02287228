import { ArrowLeftOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Card, Col, Descriptions, Empty, Flex, Row, Skeleton, Statistic, Tag, Timeline, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api, call, type Schemas } from '../../api/client';
import { useUsers } from '../../api/directory';
import { Page } from '../../app/Page';
import { TagSelect, tagStyle } from '../../components/TagSelect';
import { addMessages } from '../../i18n';
import { errorText, problemText, type ProblemWords } from '../../lib/errors';
import { formatDateTime } from '../../lib/time';
import { messages } from './messages';
import { useMessage } from '../../app/feedback';

addMessages('contacts', messages);

type Contact = Schemas['ContactDto'];

/** One customer: profile, tags (editable), attributes, value and activity, and everything that happened. */
export default function ContactPage() {
  const { id } = useParams();
  const { t } = useTranslation('contacts');
  const contact = useQuery({ queryKey: ['contact', id], queryFn: () => call(api.GET('/api/contacts/{id}', { params: { path: { id: id! } } })) });
  const timeline = useQuery({ queryKey: ['contact', id, 'timeline'], queryFn: () => call(api.GET('/api/contacts/{id}/timeline', { params: { path: { id: id! } } })) });
  const owners = useUsers({});
  if (!contact.data) {
    return <Page title={t('detail.profile')}>{contact.error ? <Alert type="error" showIcon message={errorText(contact.error)} /> : <Skeleton active />}</Page>;
  }
  const c = contact.data;
  const owner = owners.data?.find((u) => u.id === c.ownerId)?.name ?? (c.ownerId ? '—' : t('detail.unassigned'));
  const attributes = Object.entries(c.attributes ?? {});
  return (
    <Page title={c.name} extra={<Link to="/contacts"><ArrowLeftOutlined /> {t('detail.back')}</Link>}>
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={14}>
          <Flex vertical gap="middle">
            <Card size="small" title={t('detail.profile')}>
              <Descriptions size="small" column={{ xs: 1, sm: 2 }} items={[
                { key: 'ext', label: t('detail.externalId'), children: c.externalId },
                { key: 'phone', label: t('detail.phone'), children: c.phone ?? '—' },
                { key: 'email', label: t('detail.email'), children: c.email ?? '—' },
                { key: 'owner', label: t('detail.owner'), children: owner },
                { key: 'tz', label: t('detail.timezone'), children: c.timezone },
              ]} />
            </Card>
            <TagsCard contact={c} />
            <Card size="small" title={t('detail.attributes')}>
              {attributes.length ? (
                <Descriptions size="small" column={{ xs: 1, sm: 2 }} items={attributes.map(([k, v]) => ({ key: k, label: k, children: typeof v === 'object' ? JSON.stringify(v) : String(v) }))} />
              ) : <Typography.Text type="secondary">{t('detail.noAttributes')}</Typography.Text>}
            </Card>
            <Card size="small" title={t('detail.metrics')}>
              <Flex gap="large" wrap>
                <Statistic title={t('detail.orders')} value={c.orderCount} />
                <Statistic title={t('detail.spend')} value={c.totalSpend} precision={2} />
                <Statistic title={t('detail.spend30d')} value={c.spend30d} precision={2} />
              </Flex>
              <Descriptions size="small" column={{ xs: 1, sm: 3 }} style={{ marginTop: 12 }} items={[
                { key: 'o', label: t('detail.lastOrder'), children: formatDateTime(c.lastOrderAt) },
                { key: 'c', label: t('detail.lastContacted'), children: formatDateTime(c.lastContactedAt) },
                { key: 'r', label: t('detail.lastResponded'), children: formatDateTime(c.lastRespondedAt) },
              ]} />
            </Card>
          </Flex>
        </Col>
        <Col xs={24} xl={10}>
          <Card size="small" title={t('detail.timeline')} data-testid="contact-timeline">
            {timeline.data?.length ? (
              <Timeline items={timeline.data.map((e, i) => ({
                key: i,
                color: e.type.startsWith('response') ? 'green' : e.type === 'tag.removed' ? 'gray' : 'blue',
                children: <TimelineItem entry={e} />,
              }))} />
            ) : timeline.isPending ? <Skeleton active /> : <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('detail.noTimeline')} />}
          </Card>
        </Col>
      </Row>
    </Page>
  );
}

/** The reasons the engine and the API store on tag changes (in English), in the viewer's words; others as stored. */
const TAG_REASONS: ProblemWords = [
  [/^set at creation$/, 'detail.reasons.created'],
  [/^CSV import$/, 'detail.reasons.csvImport'],
  [/^import$/, 'detail.reasons.import'],
  [/^computed tag rule$/, 'detail.reasons.computed'],
  [/^WeCom corp tags$/, 'detail.reasons.wecomTags'],
  [/^WeCom sync$/, 'detail.reasons.wecomSync'],
  [/^deleted WeCom member (?<member>.+)$/, 'detail.reasons.deletedMember'],
  [/^opened "(?<title>.*)"$/, 'detail.reasons.opened'],
  [/^joined via (?<code>.+)$/, 'detail.reasons.joinedVia'],
  [/^finished SOP "(?<name>.*)"$/, 'detail.reasons.finishedSop'],
  [/^response rule "(?<name>.*)"$/, 'detail.reasons.responseRule'],
];

function TimelineItem({ entry }: { entry: Schemas['TimelineEntryDto'] }) {
  const { t } = useTranslation('contacts');
  const d = entry.detail as Record<string, string | number | undefined>;
  const what = [d.tag, d.material, d.outcome, d.name, d.amount !== undefined ? `¥${d.amount}` : undefined].filter(Boolean).join(' · ');
  return (
    <>
      <Typography.Text>{t(`detail.events.${entry.type}`, { defaultValue: entry.type })}{what ? ` · ${what}` : ''}</Typography.Text>
      {d.by && <Typography.Text type="secondary"> {t(`detail.by.${d.by}`, { defaultValue: String(d.by) })}</Typography.Text>}
      {d.reason && <Typography.Text type="secondary"> · {problemText(t, TAG_REASONS, String(d.reason))}</Typography.Text>}
      <br />
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>{formatDateTime(entry.at)}</Typography.Text>
    </>
  );
}

/** The contact's tags; editing sends only what changed (exclusive groups are the API's to keep). */
function TagsCard({ contact }: { contact: Contact }) {
  const { t } = useTranslation('contacts');
  const message = useMessage();
  const queries = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState<string[]>(contact.tags.map((x) => x.id));
  async function save() {
    const before = new Set(contact.tags.map((x) => x.id));
    const add = value.filter((id) => !before.has(id));
    const remove = [...before].filter((id) => !value.includes(id));
    try {
      if (add.length || remove.length) await call(api.POST('/api/contacts/{id}/tags', { params: { path: { id: contact.id } }, body: { add, remove } }));
      message.success(t('detail.saved'));
      setEditing(false);
      void queries.invalidateQueries({ queryKey: ['contact', contact.id] });
    } catch (e) {
      message.error(errorText(e));
    }
  }
  return (
    <Card size="small" title={t('detail.tags')} extra={!editing && <Button size="small" onClick={() => { setValue(contact.tags.map((x) => x.id)); setEditing(true); }}>{t('detail.editTags')}</Button>}>
      {editing ? (
        <Flex gap="small" wrap>
          <TagSelect value={value} onChange={(ids) => setValue(ids as string[])} aria-label={t('detail.editTags')} style={{ minWidth: 320, flex: 1 }} data-testid="contact-tags-edit" />
          <Button type="primary" onClick={() => void save()} data-testid="contact-tags-save">{t('common:actions.save')}</Button>
          <Button onClick={() => setEditing(false)}>{t('common:actions.cancel')}</Button>
        </Flex>
      ) : (
        <Flex wrap gap={4}>{contact.tags.length ? contact.tags.map((x) => <Tag key={x.id} style={tagStyle(x.color)}>{x.name}{x.weight !== null ? ` · ${x.weight}` : ''}</Tag>) : <Typography.Text type="secondary">—</Typography.Text>}</Flex>
      )}
    </Card>
  );
}
