import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, call, tokenStore, whenSignedOut, type Schemas } from '../api/client';
import { prefetchFirstScreen } from '../app/pages';
import { setLang, type Lang } from '../i18n';
import { setViewerZone } from '../lib/time';

export type Role = 'admin' | 'ops' | 'manager' | 'employee';
export type Me = Schemas['MeDto'] & { role: Role };

interface Session {
  me: Me | null;
  loading: boolean;
  signIn(email: string, password: string): Promise<void>;
  signOut(): void;
  /** Switches the language now and remembers it with the user (their reminders follow it too). */
  changeLang(lang: Lang): void;
}

const SessionContext = createContext<Session | null>(null);

/** Who is signed in, with their language and zone, asked at once: the first screen waits for one round trip. */
async function fetchWho(): Promise<Me> {
  const [who, prefs] = await Promise.all([
    call(api.GET('/api/auth/me')) as Promise<Me>,
    call(api.GET('/api/me/notification-preferences')).catch(() => null), // API keys have none
  ]);
  if (prefs) {
    setViewerZone(prefs.timezone);
    if (prefs.locale === 'zh' || prefs.locale === 'en') setLang(prefs.locale);
  }
  return who;
}

// A page opened with a token asks who it is as soon as this code runs, not after the first render.
let early: Promise<Me> | null = tokenStore.get() ? fetchWho() : null;
early?.catch(() => undefined);
function whoIsSignedIn(): Promise<Me> {
  const pending = early ?? fetchWho();
  early = null;
  return pending;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const queries = useQueryClient();
  const [token, setToken] = useState(tokenStore.get());

  const signOut = useCallback(() => {
    tokenStore.clear();
    setToken(null);
    queries.clear();
  }, [queries]);
  useEffect(() => whenSignedOut(signOut), [signOut]);

  const me = useQuery({
    queryKey: ['me', token],
    enabled: Boolean(token),
    queryFn: async () => {
      const who = await whoIsSignedIn();
      prefetchFirstScreen(queries, who, window.location);
      return who;
    },
    staleTime: Infinity,
    retry: false,
  });

  const value = useMemo<Session>(() => ({
    me: token ? (me.data ?? null) : null,
    loading: Boolean(token) && me.isPending,
    async signIn(email, password) {
      const { accessToken } = await call(api.POST('/api/auth/login', { body: { email, password } }));
      tokenStore.set(accessToken);
      setToken(accessToken);
    },
    signOut,
    changeLang(lang) {
      setLang(lang);
      if (me.data?.userId) void call(api.PUT('/api/me/notification-preferences', { body: { locale: lang } })).catch(() => undefined);
    },
  }), [token, me.data, me.isPending, signOut]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** The signed-in person (pages below the shell are only rendered once they are known). */
export function useMe(): Me {
  const { me } = useSession();
  if (!me) throw new Error('useMe before sign-in');
  return me;
}
