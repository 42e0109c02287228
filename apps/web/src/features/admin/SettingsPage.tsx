import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Card, Flex, Form, InputNumber, Skeleton, Switch, Typography } from 'antd';
import type { RuleObject } from 'antd/es/form';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call, type Schemas } from '../../api/client';
import { Page } from '../../app/Page';
import { addMessages } from '../../i18n';
import { fieldProblems, refusal } from './admin-shared';
import './admin.css';
import { messages } from './messages';
import { useMessage } from '../../app/feedback';

addMessages('admin', messages);

type Caps = Schemas['ContactCapsDto'];
/** The API's bounds (settings.dto ContactCapsDto). */
const BOUNDS = { perDay: 100, perWeek: 500 } as const;

/** Organization settings: the per-contact caps across all SOPs, and whether materials may link over http. */
export default function SettingsPage() {
  const { t } = useTranslation('admin');
  return (
    <Page title={t('settings.title')}>
      <ContactCapsCard />
      <MaterialLinksCard />
    </Page>
  );
}

function ContactCapsCard() {
  const { t } = useTranslation('admin');
  const message = useMessage();
  const queries = useQueryClient();
  const [form] = Form.useForm<Caps>();
  const [problems, setProblems] = useState<string[]>([]);
  const caps = useQuery({ queryKey: ['settings', 'contact-caps'], queryFn: () => call(api.GET('/api/settings/contact-caps')) });
  const save = useMutation({
    mutationFn: (values: Caps) => call(api.PUT('/api/settings/contact-caps', { body: { perDay: values.perDay ?? null, perWeek: values.perWeek ?? null } })),
    onSuccess: (saved) => {
      queries.setQueryData(['settings', 'contact-caps'], saved);
      form.setFieldsValue(saved);
      message.success(t('settings.caps.saved'));
    },
    onError: (e) => setProblems(fieldProblems(form, e)),
  });

  const whole = (max: number, text: string) => ({
    validator: (_: RuleObject, value: number | null | undefined) =>
      value === null || value === undefined || (Number.isInteger(value) && value >= 1 && value <= max) ? Promise.resolve() : Promise.reject(new Error(text)),
  });

  return (
    <Card title={t('settings.caps.title')} style={{ maxWidth: 720 }}>
      <Typography.Paragraph type="secondary">{t('settings.caps.intro')}</Typography.Paragraph>
      {caps.isPending ? (
        <Skeleton active paragraph={{ rows: 3 }} />
      ) : caps.isError ? (
        <Alert type="error" showIcon message={refusal(caps.error)} />
      ) : (
        <Form<Caps>
          form={form}
          layout="vertical"
          initialValues={caps.data}
          onFinish={(values) => { setProblems([]); save.mutate(values); }}
          onValuesChange={() => problems.length && setProblems([])}
        >
          <Flex gap="large" wrap>
            <Form.Item
              name="perDay"
              label={t('settings.caps.perDay')}
              extra={t('settings.caps.perDayHelp')}
              rules={[whole(BOUNDS.perDay, t('settings.caps.invalidDay'))]}
              style={{ flex: '1 1 260px' }}
            >
              <InputNumber<number> placeholder={t('settings.caps.noCap')} suffix={t('settings.caps.unit')} style={{ width: '100%' }} changeOnWheel={false} />
            </Form.Item>
            <Form.Item
              name="perWeek"
              label={t('settings.caps.perWeek')}
              extra={t('settings.caps.perWeekHelp')}
              dependencies={['perDay']}
              rules={[
                whole(BOUNDS.perWeek, t('settings.caps.invalidWeek')),
                ({ getFieldValue }) => ({
                  warningOnly: true,
                  validator: (_, value: number | null | undefined) => {
                    const day = getFieldValue('perDay') as number | null | undefined;
                    return typeof value === 'number' && typeof day === 'number' && value < day ? Promise.reject(new Error(t('settings.caps.weekBelowDay'))) : Promise.resolve();
                  },
                }),
              ]}
              style={{ flex: '1 1 260px' }}
            >
              <InputNumber<number> placeholder={t('settings.caps.noCap')} suffix={t('settings.caps.unit')} style={{ width: '100%' }} changeOnWheel={false} />
            </Form.Item>
          </Flex>
          {problems.length > 0 && (
            <Alert type="error" showIcon role="alert" message={problems[0]} description={problems.slice(1).join('; ') || undefined} style={{ marginBottom: 16 }} />
          )}
          <Flex gap="small">
            <Button type="primary" htmlType="submit" loading={save.isPending}>{t('common:actions.save')}</Button>
            <Button onClick={() => { form.resetFields(); setProblems([]); }}>
              {t('common:actions.reset')}
            </Button>
          </Flex>
        </Form>
      )}
    </Card>
  );
}

/** https only for SOP materials unless the admin allows http (docs/security.md). */
function MaterialLinksCard() {
  const { t } = useTranslation('admin');
  const message = useMessage();
  const queries = useQueryClient();
  const current = useQuery({ queryKey: ['settings', 'materials'], queryFn: () => call(api.GET('/api/settings/materials')) });
  const save = useMutation({
    mutationFn: (allowHttp: boolean) => call(api.PUT('/api/settings/materials', { body: { allowHttp } })),
    onSuccess: (saved) => {
      queries.setQueryData(['settings', 'materials'], saved);
      message.success(t('settings.materials.saved'));
    },
    onError: (e) => message.error(refusal(e)),
  });
  return (
    <Card title={t('settings.materials.title')} style={{ maxWidth: 720, marginTop: 16 }}>
      <Typography.Paragraph type="secondary">{t('settings.materials.intro')}</Typography.Paragraph>
      {current.isError ? <Alert type="error" showIcon message={refusal(current.error)} /> : (
        <Flex gap="small" align="center">
          <Switch
            id="allow-http-materials" checked={current.data?.allowHttp ?? false} loading={current.isPending || save.isPending}
            onChange={(on) => save.mutate(on)} aria-label={t('settings.materials.allowHttp')}
          />
          <label htmlFor="allow-http-materials">{t('settings.materials.allowHttp')}</label>
        </Flex>
      )}
    </Card>
  );
}
