// Runner tokens (administrators): one secret per runner name, in place of the shared
// HARRIER_RPC_SECRET. A token is shown once, when issued, with the command line that uses
// it; revoking it refuses the runner's next call.
import { useState, type FormEvent } from 'react';
import { api, messageOf } from '../api/client.ts';
import type { RunnerTokenIssuedJson, RunnerTokenJson } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { ErrorNotice, Loading } from '../components/common.tsx';
import { Ago } from '../components/time.tsx';

/** The server's rule for a runner name: what a header can carry. */
const RUNNER_NAME = /^[!-~]{1,255}$/;

export function RunnerTokensSection() {
  const tokens = useApi<RunnerTokenJson[]>('/api/runners/tokens');
  const [runner, setRunner] = useState('');
  const [issued, setIssued] = useState<RunnerTokenIssuedJson | null>(null);
  const [problem, setProblem] = useState('');
  const [busy, setBusy] = useState(false);

  const issue = async (e: FormEvent) => {
    e.preventDefault();
    const name = runner.trim();
    if (!RUNNER_NAME.test(name)) {
      setProblem('A runner name is 1 to 255 printable characters without spaces, as the runner\'s HARRIER_RUNNER_NAME.');
      return;
    }
    setBusy(true);
    setProblem('');
    try {
      setIssued(await api<RunnerTokenIssuedJson>('/api/runners/tokens', { method: 'POST', body: { runner: name } }));
      setRunner('');
      await tokens.reload();
    } catch (err) {
      setProblem(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (t: RunnerTokenJson) => {
    if (!confirm(`Revoke this token of runner ${t.runner}? The runner's next call is refused.`)) return;
    setProblem('');
    try {
      await api(`/api/runners/tokens/${encodeURIComponent(t.id)}`, { method: 'DELETE' });
      if (issued?.id === t.id) setIssued(null);
      await tokens.reload();
    } catch (err) {
      setProblem(messageOf(err));
    }
  };

  return (
    <section className="card settings-card" aria-labelledby="runner-tokens-head">
      <h2 id="runner-tokens-head">Runner tokens</h2>
      <p className="hint">
        A runner token lets one runner, under its own name only, connect in place of the shared secret. Give it to the runner as <code>HARRIER_RPC_SECRET</code>; revoke it
        here and its next call is refused.
      </p>
      <form className="row-actions" onSubmit={(e) => void issue(e)} aria-label="Issue a runner token">
        <input value={runner} onChange={(e) => setRunner(e.target.value)} placeholder="runner name, e.g. build-1" aria-label="Runner name" spellCheck={false} autoComplete="off" />
        <button type="submit" className="btn" disabled={busy || !runner.trim()}>
          Issue a token
        </button>
      </form>
      {problem && (
        <p className="notice notice-error" role="alert">
          {problem}
        </p>
      )}
      {issued && (
        <div className="notice notice-info" role="status" aria-label="New runner token">
          <p>
            The token for <strong>{issued.runner}</strong>, shown only this once. Start the runner with it:
          </p>
          <pre className="snippet">
            HARRIER_SERVER_URL={location.origin} HARRIER_RUNNER_NAME={issued.runner} HARRIER_RPC_SECRET={issued.token} harrier runner
          </pre>
          <button type="button" className="btn btn-small" onClick={() => setIssued(null)}>
            Done
          </button>
        </div>
      )}
      <ErrorNotice title="Could not list the runner tokens" error={tokens.error} />
      {!tokens.data ? (
        tokens.loading && <Loading what="runner tokens" />
      ) : tokens.data.length === 0 ? (
        <p className="muted">No runner token yet: runners connect with the shared secret.</p>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Runner tokens">
            <thead>
              <tr>
                <th scope="col">Runner</th>
                <th scope="col">Issued</th>
                <th scope="col">Last used</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.map((t) => (
                <tr key={t.id}>
                  <td>
                    <strong>{t.runner}</strong>
                    <div className="small muted" title={`sha256 ${t.id}`}>
                      {t.id.slice(0, 12)}
                    </div>
                  </td>
                  <td>
                    <Ago unix={t.created} /> <span className="small muted">by {t.created_by || 'unknown'}</span>
                  </td>
                  <td>{t.last_used ? <Ago unix={t.last_used} /> : <span className="muted">never</span>}</td>
                  <td>
                    {t.revoked ? (
                      <span className="muted">
                        revoked <Ago unix={t.revoked} />
                      </span>
                    ) : (
                      <button type="button" className="btn btn-small btn-danger-quiet" onClick={() => void revoke(t)} aria-label={`Revoke the token of ${t.runner}`}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
