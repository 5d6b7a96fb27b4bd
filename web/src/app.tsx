// The shell: find out who is signed in, then show the page the path names inside the
// header and main landmarks. Signed-out visitors get the sign-in page on every path.
import { useEffect, useRef, useState } from 'react';
import { ApiError, api, setUnauthorizedHandler, signOut } from './api/client.ts';
import type { SystemInfo, User } from './api/types.ts';
import { Avatar, ErrorNotice, Loading } from './components/common.tsx';
import { AccountPage } from './pages/account-page.tsx';
import { BuildPage } from './pages/build-page.tsx';
import { BuildsPage } from './pages/builds-page.tsx';
import { LoginPage } from './pages/login-page.tsx';
import { ReposPage } from './pages/repos-page.tsx';
import { RunnersPage } from './pages/runners-page.tsx';
import { OrgSecretsPage } from './pages/org-secrets-page.tsx';
import { SettingsPage } from './pages/settings-page.tsx';
import { UsersPage } from './pages/users-page.tsx';
import { Link, matchRoute, navigate, useLocation, type Route } from './router.tsx';
import { SessionContext, takeReturnPath, type Session } from './session.tsx';

type State = { kind: 'loading' } | { kind: 'out'; system?: SystemInfo } | { kind: 'in'; session: Session } | { kind: 'broken'; error: unknown };

async function loadSystem(): Promise<SystemInfo | undefined> {
  try {
    return await api<SystemInfo>('/api/system');
  } catch {
    return undefined;
  }
}

export function App() {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const loc = useLocation();

  useEffect(() => {
    setUnauthorizedHandler(() => setState((s) => ({ kind: 'out', system: s.kind === 'in' ? s.session.system : undefined })));
    const system = loadSystem();
    api<User>('/api/user').then(
      (user) => {
        setState({ kind: 'in', session: { user } });
        // The pages do not wait for /api/system; the badge and sign-in links read it when it is in.
        void system.then((info) => setState((s) => (s.kind === 'in' ? { kind: 'in', session: { ...s.session, system: info } } : s)));
        const back = location.pathname === '/' ? takeReturnPath() : null;
        if (back) navigate(back, { replace: true });
      },
      async (error) => {
        if (error instanceof ApiError && error.status === 401) setState({ kind: 'out', system: await system });
        else setState({ kind: 'broken', error });
      },
    );
  }, []);

  if (state.kind === 'loading') return <Loading what="Harrier" />;
  if (state.kind === 'broken') {
    return (
      <main className="page narrow">
        <ErrorNotice title="Harrier's server did not answer" error={state.error} />
      </main>
    );
  }
  if (state.kind === 'out') {
    const query = new URLSearchParams(loc.search);
    return <LoginPage system={state.system} error={query.get('error')} login={query.get('login')} />;
  }

  const route = matchRoute(loc.path);
  return (
    <SessionContext.Provider value={state.session}>
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <Header session={state.session} route={route} onSignedOut={() => setState({ kind: 'out', system: state.session.system })} />
      <main id="content" tabIndex={-1}>
        <FocusOnNewPage route={route} />
        <Page route={route} />
      </main>
    </SessionContext.Provider>
  );
}

/**
 * After a link opens another page, focus goes to the page's content, so a keyboard or
 * screen reader user starts there rather than on the link they left. Moving between a
 * build's steps is the same page and keeps focus in the step list.
 */
function FocusOnNewPage({ route }: { route: Route }) {
  const key = [route.page, 'slug' in route ? route.slug : '', 'number' in route ? route.number : ''].join(' ');
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('content')?.focus({ preventScroll: true });
  }, [key]);
  return null;
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'repos':
      return <ReposPage />;
    case 'runners':
      return <RunnersPage />;
    case 'users':
      return <UsersPage />;
    case 'account':
      return <AccountPage />;
    case 'builds':
      return <BuildsPage key={route.slug} slug={route.slug} />;
    case 'org-secrets':
      return <OrgSecretsPage key={route.namespace} namespace={route.namespace} />;
    case 'settings':
      return <SettingsPage key={route.slug} slug={route.slug} tab={route.tab} />;
    case 'build':
      return <BuildPage key={`${route.slug}#${route.number}`} slug={route.slug} number={route.number} stage={route.stage} step={route.step} />;
    default:
      return (
        <div className="page narrow">
          <h1>Nothing here</h1>
          <p>
            This address is not a page of Harrier. Go to <Link to="/">your repositories</Link>.
          </p>
        </div>
      );
  }
}

function Header({ session, route, onSignedOut }: { session: Session; route: Route; onSignedOut: () => void }) {
  const [busy, setBusy] = useState(false);
  const current = (page: Route['page'][]) => (page.includes(route.page) ? 'page' : undefined);
  return (
    <header className="topbar">
      <nav className="topbar-inner" aria-label="Main">
        <Link to="/" className="brand">
          <img src="/favicon.svg" alt="" width="24" height="24" />
          Harrier
        </Link>
        <Link to="/" aria-current={current(['repos', 'builds', 'settings', 'build'])}>
          Repositories
        </Link>
        <Link to="/runners" aria-current={current(['runners'])}>
          Runners
        </Link>
        {session.user.admin && (
          <Link to="/users" aria-current={current(['users'])}>
            Users
          </Link>
        )}
        <span className="spacer" />
        <Link to="/account" className="whoami" aria-current={current(['account'])} title="Your account and personal tokens">
          <Avatar src={session.user.avatar} name={session.user.login} size={24} />
          <span>{session.user.login}</span>
        </Link>
        <button
          type="button"
          className="btn btn-quiet"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            await signOut().catch(() => undefined);
            navigate('/', { replace: true });
            onSignedOut();
          }}
        >
          Sign out
        </button>
      </nav>
    </header>
  );
}
