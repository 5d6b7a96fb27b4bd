// The heading of every repository page: its name, a link to it at the provider, and
// the Builds / Settings tabs.
import type { Repo } from '../api/types.ts';
import { providerName } from '../providers.ts';
import { Link, repoUrl } from '../router.tsx';

export function RepoHeader({ slug, repo, tab }: { slug: string; repo?: Repo; tab: 'builds' | 'settings' | 'build' }) {
  const [owner, name] = slug.split('/');
  return (
    <div className="repo-head">
      <div className="repo-title">
        <h1>
          <Link to="/" className="muted plain-link">
            {owner}
          </Link>
          <span className="muted"> / </span>
          <Link to={repoUrl(slug)} className="plain-link">
            {name}
          </Link>
        </h1>
        {repo?.link && (
          <a className="small muted" href={repo.link} target="_blank" rel="noreferrer">
            open at {providerName(repo.scm)} ↗
          </a>
        )}
      </div>
      <nav className="tabs" aria-label={`${slug} pages`}>
        <Link to={repoUrl(slug)} aria-current={tab === 'builds' ? 'page' : undefined}>
          Builds
        </Link>
        {(!repo || repo.permissions?.admin) && (
          <Link to={repoUrl(slug, '/settings')} aria-current={tab === 'settings' ? 'page' : undefined}>
            Settings
          </Link>
        )}
      </nav>
    </div>
  );
}
