import { Empty, Spin } from 'antd';
import { Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, Route, Routes } from 'react-router';
import type { Me } from '../auth/session';
import { LANDING, routesFor } from './routes';
import { FeedbackProvider } from './feedback';
import { Shell } from './Shell';

/** Everything behind sign-in, in its own chunk: the login page loads none of it. */
export default function SignedIn({ me }: { me: Me }) {
  const { t } = useTranslation();
  return (
    <FeedbackProvider>
      <Shell me={me}>
        <Suspense fallback={<Spin style={{ display: 'block', marginTop: 96 }} />}>
          <Routes>
            {routesFor(me.role).map(({ path, page: Page }) => <Route key={path} path={path} element={<Page />} />)}
            <Route path="/" element={<Navigate to={LANDING[me.role]} replace />} />
            <Route path="*" element={<Empty style={{ marginTop: 96 }} description={t('state.notFound')} />} />
          </Routes>
        </Suspense>
      </Shell>
    </FeedbackProvider>
  );
}
