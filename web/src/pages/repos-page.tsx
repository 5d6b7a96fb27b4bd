// The repositories the person can access: filter them, activate the ones to build,
// open the active ones' builds, and see how each one's last build went.
import { useMemo, useState } from 'react';
import { api, messageOf, repoPath } from '../api/client.ts';
import type { Build, Repo } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { refLabel } from '../components/build-ref.tsx';
import { EmptyState, ErrorNotice, LiveRegion, Loading } from '../components/common.tsx';
import { StatusIcon } from '../components/status.tsx';
import { Ago } from '../components/time.tsx';
import { providerName } from '../providers.ts';
import { Link, navigate, repoUrl } from '../router.tsx';
import { useSession, useTitle } from '../session.tsx';

export function ReposPage() {
  useTitle('Repositories');
  const { user } = useSession();
  const repos = useApi<Repo[]>('/api/user/repos');
  const [query, setQuery] = useState('');
  const [syncing, setSyncing] = useState(false);
  const [syncError, setSyncError] = useState<unknown>(null);
  const [announce, setAnnounce] = useState('');

  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    const list = (repos.data ?? []).filter((r) => !q || r.slug.toLowerCase().includes(q));
    // Active first: those are the ones people come back to.
    return list.sort((a, b) => Number(b.active) - Number(a.active) || a.slug.localeCompare(b.slug));
  }, [repos.data, query]);

  const sync = async () => {
    setSyncing(true);
    setSyncError(null);
    try {
      const fresh = await api<Repo[]>('/api/user/repos?latest=true');
      repos.setData(fresh);
      setAnnounce(`Synced: ${fresh.length} repositories`);
    } catch (err) {
      setSyncError(err);
    } finally {
      setSyncing(false);
    }
  };

  const replace = (saved: Repo) => repos.setData((old) => old?.map((r) => (r.id === saved.id ? { ...r, ...saved } : r)));

  return (
    <div className="page">
      <div className="page-head">
        <h1>Repositories</h1>
        <div className="page-actions">
          <label className="search">
            <span className="visually-hidden">Filter repositories</span>
            <input type="search" placeholder="Filter repositories" value={query} onChange={(e) => setQuery(e.target.value)} autoFocus />
          </label>
          <button type="button" className="btn" onClick={sync} disabled={syncing}>
            {syncing ? 'Syncing…' : 'Sync'}
          </button>
        </div>
      </div>
      <LiveRegion message={announce} />
      <ErrorNotice title="Could not sync with your provider" error={syncError} />
      <ErrorNotice title="Could not load your repositories" error={repos.error} />
      {repos.loading && !repos.data ? (
        <Loading what="repositories" />
      ) : repos.data && repos.data.length === 0 ? (
        <EmptyState title="No repositories yet" action={<button className="btn btn-primary" onClick={sync}>Sync now</button>}>
          <p>
            Harrier lists the repositories your {providerName(user.provider)} account <strong>{user.login}</strong> can
            access. Create one there, or ask to be added to one, then sync.
          </p>
        </EmptyState>
      ) : shown.length === 0 && repos.data ? (
        <EmptyState title={`No repository matches “${query}”`}>
          <p>Clear the filter, or sync if the repository is new.</p>
        </EmptyState>
      ) : (
        <ul className="card-list repo-list" aria-label="Repositories">
          {shown.map((r) => (
            <RepoRow key={r.id} repo={r} onSaved={(saved) => {
              replace(saved);
              setAnnounce(`${saved.slug} is now ${saved.active ? 'active' : 'inactive'}`);
            }} />
          ))}
        </ul>
      )}
    </div>
  );
}

function RepoRow({ repo, onSaved }: { repo: Repo; onSaved: (r: Repo) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const admin = repo.permissions?.admin ?? false;
  const activate = async () => {
    setBusy(true);
    setError('');
    try {
      const saved = await api<Repo>(`/api/repos/${repoPath(repo.slug)}`, { method: 'POST' });
      onSaved(saved);
      navigate(repoUrl(repo.slug, '/settings'));
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  };
  return (
    <li className={`card-row repo-row${repo.active ? '' : ' inactive'}`}>
      <div className="repo-name">
        {repo.active ? (
          <Link to={repoUrl(repo.slug)} className="strong-link">
            <span className="muted">{repo.namespace} / </span>
            {repo.name}
          </Link>
        ) : (
          <span>
            <span className="muted">{repo.namespace} / </span>
            {repo.name}
          </span>
        )}
        {repo.private && <span className="tag">private</span>}
      </div>
      {repo.build && <LastBuild slug={repo.slug} build={repo.build} />}
      {error && (
        <p className="row-error" role="alert">
          {error}
        </p>
      )}
      <div className="row-actions">
        {repo.active ? (
          <>
            <span className="tag tag-ok">active</span>
            {admin && (
              <Link to={repoUrl(repo.slug, '/settings')} className="btn btn-small" aria-label={`Settings of ${repo.slug}`}>
                Settings
              </Link>
            )}
          </>
        ) : admin ? (
          <button type="button" className="btn btn-small btn-primary" onClick={activate} disabled={busy} aria-label={`Activate ${repo.slug}`}>
            {busy ? 'Activating…' : 'Activate'}
          </button>
        ) : (
          <span className="muted small" title="Activating creates a webhook, which needs admin permission on the repository">
            needs an admin to activate
          </span>
        )}
      </div>
    </li>
  );
}

/** The repository's last build as Drone's dashboard shows it: status, number, branch, when; a link to it. */
function LastBuild({ slug, build }: { slug: string; build: Build }) {
  return (
    <Link to={repoUrl(slug, `/${build.number}`)} className="plain-link repo-last-build" data-status={build.status} title={`Last build of ${slug}`}>
      <StatusIcon status={build.status} />
      <span className="build-number">#{build.number}</span>
      <span className="ref">{refLabel(build)}</span>
      <Ago unix={build.started || build.created} />
    </Link>
  );
}
