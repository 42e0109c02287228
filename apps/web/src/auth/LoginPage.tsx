import { LockOutlined, MailOutlined } from '@ant-design/icons';
import { Alert, Button, Flex, Form, Input } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LangSwitch } from '../app/LangSwitch';
import { errorText } from '../lib/errors';
import { useSession } from './session';

export function LoginPage() {
  const { t } = useTranslation();
  const { signIn } = useSession();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit({ email, password }: { email: string; password: string }) {
    setBusy(true);
    setError(null);
    try {
      await signIn(email.trim(), password);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" className="login">
      <Flex justify="flex-end" className="login-lang"><LangSwitch /></Flex>
      <div className="login-card">
        <h1 className="login-title">{t('auth.welcome')}</h1>
        <p className="login-tagline">{t('tagline')}</p>
        <Form layout="vertical" requiredMark={false} onFinish={submit} disabled={busy}>
          <Form.Item name="email" label={t('auth.email')} rules={[{ required: true, message: t('auth.emailRequired') }]}>
            <Input prefix={<MailOutlined />} type="email" autoComplete="username" autoFocus size="large" />
          </Form.Item>
          <Form.Item name="password" label={t('auth.password')} rules={[{ required: true, message: t('auth.passwordRequired') }]}>
            <Input.Password prefix={<LockOutlined />} autoComplete="current-password" size="large" />
          </Form.Item>
          {error !== null && <Alert type="error" role="alert" showIcon message={errorText(error)} style={{ marginBottom: 16 }} data-testid="login-error" />}
          <Button type="primary" htmlType="submit" size="large" block loading={busy}>{t('auth.signIn')}</Button>
        </Form>
      </div>
    </main>
  );
}
