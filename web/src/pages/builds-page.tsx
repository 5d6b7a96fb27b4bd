// A repository's builds, newest first, kept current by the repository's event stream.
import { useCallback, useState } from 'react';
import { api, messageOf, repoPath } from '../api/client.ts';
import { useRepoStream } from '../api/repo-stream.ts';
import type { Build, Repo } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { buildTitle, BuildRef } from '../components/build-ref.tsx';
import { EmptyState, ErrorNotice, LiveRegion, Loading } from '../components/common.tsx';
import { RepoHeader } from '../components/repo-header.tsx';
import { StatusIcon, statusLabel } from '../components/status.tsx';
import { Ago, Duration } from '../components/time.tsx';
import { Link, repoUrl } from '../router.tsx';
import { useTitle } from '../session.tsx';
import { StartBuildForm } from './start-build-form.tsx';

const PER_PAGE = 25;

/** Puts a build into a newest-first list: replaces the row with its number, or adds it in order. */
export function upsertBuild(list: Build[], build: Build): Build[] {
  const at = list.findIndex((b) => b.number === build.number);
  if (at >= 0) {
    if (list[at].version > build.version) return list;
    const next = list.slice();
    next[at] = { ...list[at], ...build };
    return next;
  }
  const next = [...list, build];
  return next.sort((a, b) => b.number - a.number);
}

export function BuildsPage({ slug }: { slug: string }) {
  useTitle(slug);
  const repo = useApi<Repo>(`/api/repos/${repoPath(slug)}`);
  const builds = useApi<Build[]>(`/api/repos/${repoPath(slug)}/builds?per_page=${PER_PAGE}`);
  const [more, setMore] = useState<{ page: number; done: boolean; loading: boolean; error?: unknown }>({ page: 1, done: false, loading: false });
  const [announce, setAnnounce] = useState('');
  const [starting, setStarting] = useState(false);

  useRepoStream(slug, {
    onBuild: useCallback(
      (b: Build) => {
        builds.setData((old) => upsertBuild(old ?? [], b));
        setAnnounce(`Build ${b.number} ${statusLabel(b.status).toLowerCase()}`);
      },
      [builds.setData],
    ),
    onResync: () => void builds.reload(),
  });

  const loadMore = async () => {
    setMore((m) => ({ ...m, loading: true }));
    try {
      const page = more.page + 1;
      const next = await api<Build[]>(`/api/repos/${repoPath(slug)}/builds?per_page=${PER_PAGE}&page=${page}`);
      builds.setData((old) => next.reduce(upsertBuild, old ?? []));
      setMore({ page, done: next.length < PER_PAGE, loading: false });
    } catch (error) {
      setMore((m) => ({ ...m, loading: false, error }));
    }
  };

  const list = builds.data;
  return (
    <div className="page">
      <RepoHeader slug={slug} repo={repo.data} tab="builds" />
      <LiveRegion message={announce} />
      {repo.data && !repo.data.active && <InactiveNotice repo={repo.data} onActivated={() => void repo.reload()} />}
      {repo.data?.active && repo.data.permissions?.write && (
        <div className="page-actions builds-actions">
          {starting ? (
            <StartBuildForm
              slug={slug}
              title="New build"
              field={{ name: 'branch', label: 'Branch', initial: repo.data.default_branch, required: false, hint: 'Its newest commit is built, with the event custom; empty builds the default branch.' }}
              actions={[{ label: 'Start build', busyLabel: 'Starting…', path: '/builds' }]}
              onCancel={() => setStarting(false)}
            />
          ) : (
            <button type="button" className="btn btn-primary" onClick={() => setStarting(true)}>
              New build
            </button>
          )}
        </div>
      )}
      <ErrorNotice title="Could not load the builds" error={builds.error} />
      {!list ? (
        builds.loading && <Loading what="builds" />
      ) : list.length === 0 ? (
        <EmptyState
          title={`No builds yet — push a commit to ${slug}`}
          action={
            repo.data?.permissions?.admin && (
              <Link className="btn" to={repoUrl(slug, '/settings')}>
                Review the pipeline
              </Link>
            )
          }
        >
          <p>
            Each push, tag and pull request builds the pipeline in <code>{repo.data?.config_path || '.drone.yml'}</code>. A repository without
            one builds the pipeline its language settings propose.
          </p>
        </EmptyState>
      ) : (
        <>
          <ol className="card-list build-list" aria-label={`Builds of ${slug}`}>
            {list.map((b) => (
              <BuildRow key={b.number} slug={slug} build={b} />
            ))}
          </ol>
          {!more.done && list.length >= PER_PAGE * more.page && (
            <div className="list-foot">
              <button type="button" className="btn" onClick={loadMore} disabled={more.loading}>
                {more.loading ? 'Loading…' : 'Older builds'}
              </button>
              <ErrorNotice error={more.error} />
            </div>
          )}
        </>
      )}
    </div>
  );
}

function BuildRow({ slug, build }: { slug: string; build: Build }) {
  return (
    <li className={`card-row build-row tone-row-${build.status}`} data-build={build.number}>
      <StatusIcon status={build.status} size={20} />
      <div className="build-main">
        <Link to={repoUrl(slug, `/${build.number}`)} className="strong-link build-link">
          <span className="build-number">#{build.number}</span> {buildTitle(build)}
        </Link>
        <BuildRef build={build} />
      </div>
      <div className="build-times small muted">
        {build.started ? <Ago unix={build.started} /> : <Ago unix={build.created} />}
        <Duration started={build.started} stopped={build.finished} />
      </div>
    </li>
  );
}

function InactiveNotice({ repo, onActivated }: { repo: Repo; onActivated: () => void }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <div className="notice" role="note">
      <strong>{repo.slug} is not active.</strong> Pushes do not build until it is activated
      {repo.permissions?.admin ? '.' : ' by an admin of the repository.'}
      {repo.permissions?.admin && (
        <button
          type="button"
          className="btn btn-small btn-primary notice-action"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            try {
              await api(`/api/repos/${repoPath(repo.slug)}`, { method: 'POST' });
              onActivated();
            } catch (err) {
              setError(messageOf(err));
            } finally {
              setBusy(false);
            }
          }}
        >
          Activate
        </button>
      )}
      {error && <p role="alert">{error}</p>}
    </div>
  );
}
