import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { ConfigProvider, Spin } from 'antd';
import enUS from 'antd/es/locale/en_US';
import zhCN from 'antd/es/locale/zh_CN';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import { lazy, Suspense, useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { BrowserRouter } from 'react-router';
import { ApiError, tokenStore } from '../api/client';
import { SessionProvider, useSession } from '../auth/session';
import { preloadPage } from './pages';
import '../i18n';
import './app.css';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      refetchOnWindowFocus: false,
      // A refusal will not change on retry; a network blip may.
      retry: (count, error) => !(error instanceof ApiError && error.status > 0) && count < 2,
    },
  },
});

/** Ant Design's defaults, darkened where its text fails WCAG AA contrast (4.5:1). */
const THEME = { token: { colorPrimary: '#0958d9', colorLink: '#0958d9', colorTextSecondary: 'rgba(0, 0, 0, 0.65)', colorTextDescription: 'rgba(0, 0, 0, 0.65)', colorTextTertiary: 'rgba(0, 0, 0, 0.6)', colorError: '#cf1322', colorTextPlaceholder: 'rgba(0, 0, 0, 0.55)', borderRadius: 6 } };

/** No space inserted between two Chinese characters ("保 存"): our longer labels have none, so short ones looked apart. */
const BUTTON = { autoInsertSpace: false };

export function App() {
  const { i18n } = useTranslation();
  const en = i18n.language === 'en';
  useEffect(() => {
    dayjs.locale(en ? 'en' : 'zh-cn');
    document.documentElement.lang = en ? 'en' : 'zh-CN';
  }, [en]);
  return (
    <ConfigProvider locale={en ? enUS : zhCN} theme={THEME} button={BUTTON}>
      <QueryClientProvider client={queryClient}>
        <BrowserRouter>
          <SessionProvider>
            <Screens />
          </SessionProvider>
        </BrowserRouter>
      </QueryClientProvider>
    </ConfigProvider>
  );
}

const loadSignedIn = () => import('./SignedIn');
const SignedIn = lazy(loadSignedIn);
const loadLogin = () => import('../auth/LoginPage').then((m) => ({ default: m.LoginPage }));
const LoginPage = lazy(loadLogin);
// Fetch the screen the visitor will most likely see while the API says who they are, not after: signed in,
// the shell and the page asked for, side by side.
if (tokenStore.get()) {
  void loadSignedIn();
  preloadPage(window.location.pathname);
} else {
  void loadLogin();
}

function Screens() {
  const { me, loading } = useSession();
  const { t } = useTranslation();
  if (loading) return <Spin fullscreen tip={t('state.loading')} />;
  return (
    <Suspense fallback={<Spin fullscreen tip={t('state.loading')} />}>
      {me ? <SignedIn me={me} /> : <LoginPage />}
    </Suspense>
  );
}
