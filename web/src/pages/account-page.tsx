// The signed-in user's account: personal API tokens for scripts and the CLI. A token is
// shown once, when made; the list says when each was made, expires and was last used.
import { useState, type FormEvent } from 'react';
import { api, messageOf } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import { ErrorNotice, Loading } from '../components/common.tsx';
import { Ago } from '../components/time.tsx';
import { useSession, useTitle } from '../session.tsx';

/** GET /api/user/tokens: never the token itself. */
interface ApiTokenJson {
  id: string;
  name: string;
  created: number;
  expires: number;
  last_used: number;
}

const EXPIRY_CHOICES = [
  { days: 0, label: 'the server default' },
  { days: 7, label: '7 days' },
  { days: 30, label: '30 days' },
  { days: 90, label: '90 days' },
  { days: 365, label: '1 year' },
];

function when(unix: number): string {
  return new Date(unix * 1000).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

export function AccountPage() {
  useTitle('Your account');
  const { user } = useSession();
  const tokens = useApi<ApiTokenJson[]>('/api/user/tokens');
  const [name, setName] = useState('');
  const [days, setDays] = useState(0);
  const [made, setMade] = useState<(ApiTokenJson & { token: string }) | null>(null);
  const [problem, setProblem] = useState('');
  const [busy, setBusy] = useState(false);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setProblem('');
    try {
      const body = days ? { name: name.trim(), days } : { name: name.trim() };
      setMade(await api<ApiTokenJson & { token: string }>('/api/user/tokens', { method: 'POST', body }));
      setName('');
      await tokens.reload();
    } catch (err) {
      setProblem(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (t: ApiTokenJson) => {
    if (!confirm(`Revoke the token "${t.name || t.id}"? Whatever uses it is refused from now on.`)) return;
    setProblem('');
    try {
      await api(`/api/user/tokens/${encodeURIComponent(t.id)}`, { method: 'DELETE' });
      if (made?.id === t.id) setMade(null);
      await tokens.reload();
    } catch (err) {
      setProblem(messageOf(err));
    }
  };

  const now = Date.now() / 1000;
  return (
    <div className="page narrow">
      <div className="page-head">
        <h1>Your account</h1>
      </div>
      <p className="muted">
        Signed in as <strong>{user.login}</strong>
        {user.admin ? ', an administrator of this Harrier' : ''}.
      </p>
      <section className="card settings-card" aria-labelledby="tokens-head">
        <h2 id="tokens-head">Personal tokens</h2>
        <p className="hint">
          A token acts as you on the REST API: send it as <code>Authorization: Bearer &lt;token&gt;</code>. It expires; make a new one when it does, and revoke one you no
          longer use.
        </p>
        <form className="row-actions token-form" onSubmit={(e) => void create(e)} aria-label="Make a personal token">
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="name, e.g. laptop" aria-label="Token name" maxLength={100} autoComplete="off" />
          <select value={days} onChange={(e) => setDays(Number(e.target.value))} aria-label="Expires after">
            {EXPIRY_CHOICES.map((c) => (
              <option key={c.days} value={c.days}>
                expires after {c.label}
              </option>
            ))}
          </select>
          <button type="submit" className="btn" disabled={busy || !name.trim()}>
            Make a token
          </button>
        </form>
        {problem && (
          <p className="notice notice-error" role="alert">
            {problem}
          </p>
        )}
        {made && (
          <div className="notice notice-info" role="status" aria-label="New personal token">
            <p>
              Your token <strong>{made.name}</strong>, shown only this once; it expires on {when(made.expires)}:
            </p>
            <pre className="snippet">{made.token}</pre>
            <p>
              <button type="button" className="btn btn-small" onClick={() => setMade(null)}>
                Done
              </button>
            </p>
          </div>
        )}
        <ErrorNotice title="Could not list your tokens" error={tokens.error} />
        {!tokens.data ? (
          tokens.loading && <Loading what="tokens" />
        ) : tokens.data.length === 0 ? (
          <p className="muted">You have no personal token.</p>
        ) : (
          <div className="table-wrap">
            <table className="table" aria-label="Personal tokens">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Made</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {tokens.data.map((t) => (
                  <tr key={t.id} data-token={t.id}>
                    <td>
                      <strong>{t.name || <span className="muted">unnamed</span>}</strong>
                      <div className="small muted">{t.id}</div>
                    </td>
                    <td>
                      <Ago unix={t.created} />
                    </td>
                    <td>{t.expires <= now ? <span className="tag tag-bad">expired {when(t.expires)}</span> : when(t.expires)}</td>
                    <td>{t.last_used ? <Ago unix={t.last_used} /> : <span className="muted">never</span>}</td>
                    <td>
                      <button type="button" className="btn btn-small btn-danger-quiet" onClick={() => void revoke(t)} aria-label={`Revoke ${t.name || t.id}`}>
                        Revoke
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
