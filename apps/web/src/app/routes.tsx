import {
  ApartmentOutlined, ApiOutlined, AppstoreOutlined, BarChartOutlined, CalendarOutlined, ClusterOutlined, CommentOutlined, ContactsOutlined, FunctionOutlined,
  InboxOutlined, PartitionOutlined, QrcodeOutlined, SettingOutlined, TagsOutlined, TeamOutlined, UploadOutlined, UserOutlined, WechatWorkOutlined, UsergroupAddOutlined,
} from '@ant-design/icons';
import { lazy, type ComponentType, type LazyExoticComponent, type ReactNode } from 'react';
import type { Role } from '../auth/session';
import { PAGES } from './pages';

export interface AppRoute {
  path: string;
  /** i18n key of its menu entry (routes without one are reached from their list page) */
  label?: string;
  icon?: ReactNode;
  section?: 'customers' | 'admin';
  roles: Role[];
  page: LazyExoticComponent<ComponentType> & { preload(): void };
}

/** A page chunk loaded when first shown, or earlier by preload() (the page a signed-in visit opens on). */
function page(load: () => Promise<{ default: ComponentType }>) {
  return Object.assign(lazy(load), { preload: () => void load() });
}

const STAFF: Role[] = ['admin', 'ops'];
const ADMIN: Role[] = ['admin'];

/** Every screen of the console, who may open it, and the chunk it loads (each page is its own chunk). */
export const ROUTES: AppRoute[] = [
  { path: '/inbox', label: 'nav.inbox', icon: <InboxOutlined />, roles: ['employee', 'manager', 'admin'], page: page(PAGES['/inbox']) },
  { path: '/team', label: 'nav.team', icon: <TeamOutlined />, roles: ['manager', 'admin', 'ops'], page: page(PAGES['/team']) },

  { path: '/dashboard', label: 'nav.dashboard', icon: <BarChartOutlined />, roles: ['manager', 'admin', 'ops'], page: page(PAGES['/dashboard']) },
  { path: '/sops', label: 'nav.sops', icon: <PartitionOutlined />, roles: STAFF, page: page(PAGES['/sops']) },
  { path: '/sops/:id', roles: STAFF, page: page(PAGES['/sops/:id']) },
  { path: '/materials', label: 'nav.materials', icon: <AppstoreOutlined />, roles: STAFF, page: page(PAGES['/materials']) },

  { path: '/contacts', label: 'nav.contacts', icon: <ContactsOutlined />, section: 'customers', roles: STAFF, page: page(PAGES['/contacts']) },
  { path: '/contacts/:id', roles: [...STAFF, 'manager'], page: page(PAGES['/contacts/:id']) },
  { path: '/segments', label: 'nav.segments', icon: <ClusterOutlined />, section: 'customers', roles: STAFF, page: page(PAGES['/segments']) },
  { path: '/segments/:id', roles: STAFF, page: page(PAGES['/segments/:id']) },
  { path: '/tags', label: 'nav.tags', icon: <TagsOutlined />, section: 'customers', roles: STAFF, page: page(PAGES['/tags']) },
  { path: '/computed-tags', label: 'nav.computedTags', icon: <FunctionOutlined />, section: 'customers', roles: STAFF, page: page(PAGES['/computed-tags']) },
  { path: '/response-rules', label: 'nav.responseRules', icon: <CommentOutlined />, section: 'customers', roles: STAFF, page: page(PAGES['/response-rules']) },
  { path: '/imports', label: 'nav.imports', icon: <UploadOutlined />, section: 'customers', roles: STAFF, page: page(PAGES['/imports']) },
  { path: '/channel-codes', label: 'nav.channelCodes', icon: <QrcodeOutlined />, section: 'customers', roles: STAFF, page: page(PAGES['/channel-codes']) },
  { path: '/groups', label: 'nav.groups', icon: <UsergroupAddOutlined />, section: 'customers', roles: STAFF, page: page(PAGES['/groups']) },

  { path: '/admin/users', label: 'nav.users', icon: <UserOutlined />, section: 'admin', roles: ADMIN, page: page(PAGES['/admin/users']) },
  { path: '/admin/teams', label: 'nav.teams', icon: <ApartmentOutlined />, section: 'admin', roles: ADMIN, page: page(PAGES['/admin/teams']) },
  { path: '/admin/api-keys', label: 'nav.apiKeys', icon: <ApiOutlined />, section: 'admin', roles: ADMIN, page: page(PAGES['/admin/api-keys']) },
  { path: '/admin/settings', label: 'nav.settings', icon: <SettingOutlined />, section: 'admin', roles: ADMIN, page: page(PAGES['/admin/settings']) },
  { path: '/admin/calendar', label: 'nav.calendar', icon: <CalendarOutlined />, section: 'admin', roles: ADMIN, page: page(PAGES['/admin/calendar']) },
  { path: '/admin/wecom', label: 'nav.wecom', icon: <WechatWorkOutlined />, section: 'admin', roles: ADMIN, page: page(PAGES['/admin/wecom']) },
];

/** Where each role starts. */
export const LANDING: Record<Role, string> = {
  employee: '/inbox',
  manager: '/dashboard',
  ops: '/contacts',
  admin: '/admin/users',
};

export const routesFor = (role: Role) => ROUTES.filter((r) => r.roles.includes(role));
