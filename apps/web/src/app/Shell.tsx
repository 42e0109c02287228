import { MenuOutlined, ReadOutlined } from '@ant-design/icons';
import { Button, Flex, Grid, Layout, Popover, Space, Typography } from 'antd';
import { lazy, Suspense, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useSession, type Me } from '../auth/session';
import { NotificationBell } from '../features/notifications/NotificationBell';
import { LangSwitch } from './LangSwitch';
import { routesFor } from './routes';

const NavMenu = lazy(() => import('./NavMenu'));

/** The frame around every page: navigation by role, language, notifications and the signed-in person. */
export function Shell({ me, children }: { me: Me; children: ReactNode }) {
  const { t } = useTranslation();
  const screens = Grid.useBreakpoint();
  const narrow = !screens.md;
  const [drawer, setDrawer] = useState(false);
  const showMenu = routesFor(me.role).filter((r) => r.label).length > 1;

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Header className="shell-header">
        <Space size="middle">
          {narrow && showMenu && (
            <Button type="text" aria-label={t('nav.menu')} icon={<MenuOutlined />} onClick={() => setDrawer(true)} className="shell-header-button" />
          )}
          <Typography.Text strong className="shell-brand">{t('appName')}</Typography.Text>
        </Space>
        <Space size={narrow ? 'small' : 'middle'}>
          {!narrow && me.role !== 'employee' && (
            <Button type="text" href="/docs" target="_blank" icon={<ReadOutlined />} className="shell-header-button">{t('nav.apiDocs')}</Button>
          )}
          {me.userId && <NotificationBell />}
          <LangSwitch />
          <UserMenu me={me} compact={narrow} />
        </Space>
      </Layout.Header>
      <Layout>
        {!narrow && showMenu && (
          <Layout.Sider width={220} theme="light" className="shell-sider">
            <Suspense fallback={null}><NavMenu role={me.role} /></Suspense>
          </Layout.Sider>
        )}
        <Layout.Content className={narrow ? 'shell-content shell-content-narrow' : 'shell-content'}>
          <main id="main">{children}</main>
        </Layout.Content>
      </Layout>
      {narrow && showMenu && drawer && (
        <Suspense fallback={null}><NavMenu role={me.role} drawer={drawer} onDrawerClose={() => setDrawer(false)} /></Suspense>
      )}
    </Layout>
  );
}

function UserMenu({ me, compact }: { me: Me; compact: boolean }) {
  const { t } = useTranslation();
  const { signOut } = useSession();
  const name = me.name ?? me.email ?? '—';
  const card = (
    <Flex vertical gap="small" style={{ minWidth: 200 }}>
      <Typography.Text strong data-testid="who">{name}</Typography.Text>
      <Typography.Text type="secondary">{`${t(`roles.${me.role}`)} · ${me.organization}`}</Typography.Text>
      {me.email && <Typography.Text type="secondary">{me.email}</Typography.Text>}
      <Button block onClick={signOut}>{t('auth.signOut')}</Button>
    </Flex>
  );
  return (
    <Popover trigger="click" placement="bottomRight" content={card}>
      <Button type="text" className="shell-header-button" data-testid="user-menu">
        {compact ? <span className="shell-user-name">{name}</span> : `${name} · ${t(`roles.${me.role}`)}`}
      </Button>
    </Popover>
  );
}
