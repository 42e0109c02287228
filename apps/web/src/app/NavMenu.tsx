import { Drawer, Menu, type MenuProps } from 'antd';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocation, useNavigate } from 'react-router';
import type { Role } from '../auth/session';
import { routesFor } from './routes';

/**
 * The side navigation (a drawer on a phone). Its own chunk: employees, whose only screen is the inbox,
 * never load it.
 */
export default function NavMenu({ role, drawer, onDrawerClose }: { role: Role; drawer?: boolean; onDrawerClose?: () => void }) {
  const { t } = useTranslation();
  const location = useLocation();
  const navigate = useNavigate();
  const items = useNavItems(role);
  const selected = routesFor(role).filter((r) => r.label && location.pathname.startsWith(r.path)).map((r) => r.path);
  const menu = (
    <nav aria-label={t('nav.menu')}>
      <Menu
        mode="inline"
        items={items}
        selectedKeys={selected}
        onClick={({ key }) => { navigate(key); onDrawerClose?.(); }}
        style={{ borderInlineEnd: 0 }}
      />
    </nav>
  );
  if (drawer === undefined) return menu;
  return (
    <Drawer open={drawer} onClose={onDrawerClose} placement="left" size={260} title={t('appName')}>
      {menu}
    </Drawer>
  );
}

function useNavItems(role: Role): NonNullable<MenuProps['items']> {
  const { t } = useTranslation();
  return useMemo(() => {
    const routes = routesFor(role).filter((r) => r.label);
    const entry = (r: (typeof routes)[number]) => ({ key: r.path, icon: r.icon, label: t(r.label!) });
    const top = routes.filter((r) => !r.section).map(entry);
    const sections = (['customers', 'admin'] as const)
      .map((s) => ({ key: s, label: t(`nav.${s}`), type: 'group' as const, children: routes.filter((r) => r.section === s).map(entry) }))
      .filter((s) => s.children.length > 0);
    return [...top, ...sections];
  }, [role, t]);
}
