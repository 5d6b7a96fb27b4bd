// The runners that have reported to this server: online or not, sick (taking no work
// because their engine does not answer) or stopping, and what they run now.
import type { RunnerInfo } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { EmptyState, ErrorNotice, Loading } from '../components/common.tsx';
import { StatusIcon } from '../components/status.tsx';
import { Ago } from '../components/time.tsx';
import { Link, repoUrl } from '../router.tsx';
import { useSession, useTitle } from '../session.tsx';
import { useEffect } from 'react';
import { RunnerTokensSection } from './runner-tokens-section.tsx';

function labelList(labels: RunnerInfo['labels']): string[] {
  return Array.isArray(labels) ? labels : Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`);
}

export function RunnersPage() {
  useTitle('Runners');
  const { user } = useSession();
  const runners = useApi<RunnerInfo[]>('/api/runners');
  useEffect(() => {
    const id = setInterval(() => void runners.reload(), 10_000);
    return () => clearInterval(id);
  }, [runners.reload]);

  const list = runners.data;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Runners</h1>
      </div>
      <ErrorNotice title="Could not list the runners" error={runners.error} />
      {!list ? (
        runners.loading && <Loading what="runners" />
      ) : list.length === 0 ? (
        <EmptyState title="No runner has connected yet">
          <p>
            Start one on a machine with Docker, pointing at this server with the shared secret or a runner token
            {user.admin ? ' (issue one below)' : ' an administrator issued'}. <code>npm start</code> (<code>harrier up</code>) starts one beside the server; on
            another machine:
          </p>
          <pre className="snippet">
            HARRIER_SERVER_URL={location.origin} HARRIER_RPC_SECRET=… harrier runner
          </pre>
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Runner</th>
                <th scope="col">Platform</th>
                <th scope="col">Labels</th>
                <th scope="col">Running</th>
                <th scope="col">Last contact</th>
              </tr>
            </thead>
            <tbody>
              {list.map((r) => (
                <tr key={r.name}>
                  <td>
                    <span className={`runner-state ${r.online ? 'online' : 'offline'}`}>{r.online ? 'online' : 'offline'}</span>{' '}
                    <strong>{r.name}</strong>
                    {/* An offline runner's last word may be stale: offline says enough. */}
                    {r.online && r.sick && (
                      <>
                        {' '}
                        <span className="tag tag-bad" title={r.sick}>
                          sick
                        </span>
                      </>
                    )}
                    {r.online && r.stopping && (
                      <>
                        {' '}
                        <span className="tag" title="Shutting down: takes no new stage, finishes the ones it runs">
                          stopping
                        </span>
                      </>
                    )}
                    {r.online && r.sick && <div className="small">Takes no work: {r.sick}</div>}
                    {r.version && <div className="small muted">version {r.version}</div>}
                  </td>
                  <td>
                    {r.os}/{r.arch}
                  </td>
                  <td>
                    {labelList(r.labels).map((l) => (
                      <span key={l} className="tag">
                        {l}
                      </span>
                    ))}
                  </td>
                  <td>
                    <span className="small muted">
                      {r.running.length} of {r.capacity}
                    </span>
                    <ul className="plain-list">
                      {r.running.map((s) => (
                        <li key={s.stage_id}>
                          <StatusIcon status={s.status} size={14} />{' '}
                          <Link to={repoUrl(s.repo, `/${s.build}`)}>
                            {s.repo} #{s.build}
                          </Link>{' '}
                          <span className="muted">{s.stage}</span>
                        </li>
                      ))}
                    </ul>
                  </td>
                  <td>{r.last_contact ? <Ago unix={r.last_contact} /> : <span className="muted">never</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {user.admin && <RunnerTokensSection />}
    </div>
  );
}
