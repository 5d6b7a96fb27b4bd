// Sign-in: one button per provider the server is configured for, or, when none is,
// what to set to configure one.
import type { SystemInfo } from '../api/types.ts';
import { PROVIDERS } from '../providers.ts';
import { rememberReturnPath, useTitle } from '../session.tsx';

const ERRORS: Record<string, (login: string) => string> = {
  access_denied: () => 'You declined to let Harrier read your account. Sign in again and allow it to continue.',
  not_allowed: (login) =>
    `The account ${login || 'you signed in with'} is not allowed on this server: only the accounts and organisations its administrator lists may sign in. ` +
    'Ask the person who runs this Harrier to add your login or one of your organisations to HARRIER_USER_FILTER.',
  blocked: (login) => `An administrator of this Harrier blocked the account ${login || 'you signed in with'}. Ask one of its administrators to unblock it.`,
};

export function LoginPage({ system, error, login = '' }: { system?: SystemInfo; error: string | null; login?: string | null }) {
  useTitle('Sign in');
  // An older server without /api/system: offer them all and let the server explain.
  const offered = PROVIDERS.filter((p) => !system || system.providers[p.id as keyof SystemInfo['providers']]);
  return (
    <main id="content" className="login">
      <div className="login-card">
        <div className="login-brand">
          <img src="/favicon.svg" alt="" width="40" height="40" />
          <h1>Harrier</h1>
        </div>
        <p className="muted">Continuous integration for your repositories, on your own machines.</p>
        {error && (
          <div className="notice notice-error" role="alert">
            {ERRORS[error]?.(login ?? '') ?? `Sign-in did not complete: ${error}`}
          </div>
        )}
        {offered.length > 0 ? (
          <div className="login-buttons">
            {offered.map((p) => (
              <a key={p.id} className={`btn btn-primary btn-block provider-${p.id}`} href={`/login/${p.id}`} onClick={rememberReturnPath}>
                Sign in with {p.name}
              </a>
            ))}
          </div>
        ) : (
          <div className="notice" role="note">
            <h2>No sign-in provider is configured</h2>
            <p>
              Create an OAuth application at {PROVIDERS.map((p) => p.name).join(' or ')} with the callback URL{' '}
              <code>{(system?.host || location.origin) + `/login/${PROVIDERS[0].id}`}</code>{' '}
              {PROVIDERS.length > 1 && <>(or {PROVIDERS.slice(1).map((p, i) => <span key={p.id}>{i > 0 && ', '}<code>/login/{p.id}</code></span>)}), </>}
              then start the server with its id and secret:
            </p>
            <pre className="snippet">{PROVIDERS.map((p) => `${p.env}_CLIENT_ID=…\n${p.env}_CLIENT_SECRET=…`).join('\n\n# or\n')}</pre>
          </div>
        )}
        {system?.version && <p className="login-version muted">Harrier {system.version}</p>}
      </div>
    </main>
  );
}
