// A repository's settings: how it builds (general), what it builds when it has no
// pipeline file (language), its secrets, its badge, its webhook, and deactivation; and,
// on a tab of their own, the webhook's deliveries.
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api, messageOf, repoPath } from '../api/client.ts';
import type { Repo } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { ErrorNotice, LiveRegion, Loading } from '../components/common.tsx';
import { RepoHeader } from '../components/repo-header.tsx';
import { Link, navigate, orgSecretsUrl, repoUrl } from '../router.tsx';
import { publicHost, useSession, useTitle } from '../session.tsx';
import { CronJobsSection } from './cron-settings.tsx';
import { DeliveriesTab } from './deliveries-settings.tsx';
import { LanguageSettingsSection } from './language-settings.tsx';
import { SecretsSection } from './secrets-settings.tsx';

type General = Pick<Repo, 'config_path' | 'timeout' | 'visibility' | 'trusted' | 'protected' | 'ignore_forks' | 'ignore_pull_requests'>;
const GENERAL_KEYS: (keyof General)[] = ['config_path', 'timeout', 'visibility', 'trusted', 'protected', 'ignore_forks', 'ignore_pull_requests'];

export function SettingsPage({ slug, tab }: { slug: string; tab?: 'deliveries' }) {
  useTitle(`${tab === 'deliveries' ? 'Deliveries' : 'Settings'} · ${slug}`);
  const repo = useApi<Repo>(`/api/repos/${repoPath(slug)}`);
  const [announce, setAnnounce] = useState('');
  const r = repo.data;
  return (
    <div className="page">
      <RepoHeader slug={slug} repo={r} tab="settings" />
      <LiveRegion message={announce} />
      <ErrorNotice title="Could not load the repository" error={repo.error} />
      {(r?.permissions?.admin || tab === 'deliveries') && (
        <nav className="subtabs" aria-label={`Settings of ${slug}`}>
          <Link to={repoUrl(slug, '/settings')} aria-current={!tab ? 'page' : undefined}>
            General
          </Link>
          <Link to={repoUrl(slug, '/settings/deliveries')} aria-current={tab === 'deliveries' ? 'page' : undefined}>
            Deliveries
          </Link>
        </nav>
      )}
      {tab === 'deliveries' ? (
        // The tab asks the API itself, which answers 403 to all but the repository's admins.
        <DeliveriesTab slug={slug} onChanged={setAnnounce} />
      ) : !r ? (
        repo.loading && <Loading what="settings" />
      ) : (
        <div className="settings">
          {!r.permissions?.admin && (
            <p className="notice" role="note">
              You can read these settings; changing them needs admin permission on {slug} at the provider.
            </p>
          )}
          <LanguageSettingsSection slug={slug} onSaved={() => setAnnounce('Language settings saved')} />
          <GeneralSection repo={r} onSaved={(saved) => { repo.setData((old) => ({ ...old, ...saved })); setAnnounce('Settings saved'); }} />
          <SecretsSection base={`/api/repos/${repoPath(slug)}/secrets`} heading="Secrets" onChanged={setAnnounce}>
            Steps read a secret with <code>from_secret</code>. Values are write-only: once saved, nobody can read them here again; pull requests from forks get a secret
            only when you allow it. A secret here wins over an{' '}
            <Link to={orgSecretsUrl(r.namespace, r.scm)}>organisation secret</Link> of the same name.
          </SecretsSection>
          <p>
            <Link to={orgSecretsUrl(r.namespace, r.scm)}>Organisation secrets</Link> of {r.namespace}: shared by all its repositories, managed by its administrators.
          </p>
          {r.permissions?.write && <CronJobsSection slug={slug} defaultBranch={r.default_branch} onChanged={setAnnounce} />}
          <BadgeSection repo={r} />
          <WebhookSection repo={r} />
          <DeactivateSection repo={r} />
        </div>
      )}
    </div>
  );
}

function GeneralSection({ repo, onSaved }: { repo: Repo; onSaved: (r: Repo) => void }) {
  const { user } = useSession();
  const initial = () => Object.fromEntries(GENERAL_KEYS.map((k) => [k, repo[k]])) as General;
  const [form, setForm] = useState<General>(initial);
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; saved?: boolean }>({});
  useEffect(() => setForm(initial()), [repo.version]);
  const set = <K extends keyof General>(k: K, v: General[K]) => {
    setForm((f) => ({ ...f, [k]: v }));
    setState({});
  };
  const changed = GENERAL_KEYS.filter((k) => form[k] !== repo[k]);
  const disabled = !repo.permissions?.admin;

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setState({ busy: true });
    try {
      const patch = Object.fromEntries(changed.map((k) => [k, form[k]]));
      onSaved(await api<Repo>(`/api/repos/${repoPath(repo.slug)}`, { method: 'PATCH', body: patch }));
      setState({ saved: true });
    } catch (error) {
      setState({ error });
    }
  };

  return (
    <form className="card settings-card" onSubmit={save} aria-labelledby="general-head">
      <h2 id="general-head">General</h2>
      <fieldset disabled={disabled}>
        <div className="field">
          <label htmlFor="config-path">Pipeline file</label>
          <input id="config-path" value={form.config_path} onChange={(e) => set('config_path', e.target.value)} spellCheck={false} />
          <p className="hint">The path of the pipeline in the repository, read at each pushed commit.</p>
        </div>
        <div className="field-row">
          <div className="field">
            <label htmlFor="timeout">Timeout (minutes)</label>
            <input id="timeout" type="number" min={1} max={1440} value={form.timeout} onChange={(e) => set('timeout', Number(e.target.value))} />
          </div>
          <div className="field">
            <label htmlFor="visibility">Visibility</label>
            <select id="visibility" value={form.visibility} onChange={(e) => set('visibility', e.target.value as General['visibility'])}>
              <option value="private">private</option>
              <option value="internal">internal</option>
              <option value="public">public</option>
            </select>
          </div>
        </div>
        <Check id="protected" checked={form.protected} onChange={(v) => set('protected', v)} label="Protected">
          Builds that change the pipeline file wait for approval.
        </Check>
        <Check id="trusted" checked={form.trusted} onChange={(v) => set('trusted', v)} label="Trusted">
          Pipelines may run privileged containers and mount host paths on the runners.
          {!user.admin && ' Only a Harrier administrator may change this.'}
        </Check>
        <Check id="ignore-forks" checked={form.ignore_forks} onChange={(v) => set('ignore_forks', v)} label="Ignore forks">
          Pull requests from forks do not build.
        </Check>
        <Check id="ignore-prs" checked={form.ignore_pull_requests} onChange={(v) => set('ignore_pull_requests', v)} label="Ignore pull requests">
          No pull request builds; pushes and tags still do.
        </Check>
      </fieldset>
      <ErrorNotice error={state.error} />
      <div className="form-foot">
        <button type="submit" className="btn btn-primary" disabled={disabled || state.busy || changed.length === 0}>
          {state.busy ? 'Saving…' : 'Save'}
        </button>
        {state.saved && <span className="saved">Saved</span>}
      </div>
    </form>
  );
}

function Check({ id, checked, onChange, label, children }: { id: string; checked: boolean; onChange: (v: boolean) => void; label: string; children: ReactNode }) {
  return (
    <div className="check">
      <input id={id} type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} aria-describedby={`${id}-hint`} />
      <label htmlFor={id}>{label}</label>
      <p className="hint" id={`${id}-hint`}>
        {children}
      </p>
    </div>
  );
}

function BadgeSection({ repo }: { repo: Repo }) {
  const session = useSession();
  const host = publicHost(session);
  const [branch, setBranch] = useState(repo.default_branch || '');
  const [copied, setCopied] = useState(false);
  const path = `/api/badges/${repoPath(repo.slug)}/status.svg${branch ? `?ref=${encodeURIComponent(branch)}` : ''}`;
  const markdown = `[![Build status](${host}${path})](${host}/${repo.slug})`;
  const copy = async () => {
    await navigator.clipboard?.writeText(markdown).catch(() => undefined);
    setCopied(true);
    setTimeout(() => setCopied(false), 2000);
  };
  return (
    <section className="card settings-card" aria-labelledby="badge-head">
      <h2 id="badge-head">Status badge</h2>
      <div className="badge-row">
        <img src={path} alt={`Build status of ${repo.slug}`} height={20} />
        <div className="field inline-field">
          <label htmlFor="badge-branch">Branch</label>
          <input id="badge-branch" value={branch} onChange={(e) => setBranch(e.target.value.trim())} spellCheck={false} />
        </div>
      </div>
      <label htmlFor="badge-markdown" className="small">
        Markdown for a README
      </label>
      <div className="copy-row">
        <input id="badge-markdown" className="mono" readOnly value={markdown} onFocus={(e) => e.target.select()} />
        <button type="button" className="btn" onClick={copy}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </section>
  );
}

function WebhookSection({ repo }: { repo: Repo }) {
  if (!repo.permissions?.admin || !repo.active) return null;
  const hook = repo.webhook;
  return (
    <section className="card settings-card" aria-labelledby="webhook-head">
      <h2 id="webhook-head">Webhook</h2>
      {!hook ? (
        <p className="muted">This server does not report the webhook's state.</p>
      ) : hook.active ? (
        <p>
          <span className="tag tag-ok">active</span> Deliveries go to <code>{hook.url}</code>
          {hook.id && <span className="muted"> (hook {hook.id} at the provider)</span>}.
        </p>
      ) : (
        <p>
          <span className="tag tag-bad">missing</span> The provider has no working webhook for this repository, so pushes do not build. Deactivate and
          activate the repository to create it again.
        </p>
      )}
    </section>
  );
}

function DeactivateSection({ repo }: { repo: Repo }) {
  const [state, setState] = useState<{ busy?: boolean; error?: string }>({});
  if (!repo.permissions?.admin || !repo.active) return null;
  const deactivate = async () => {
    if (!confirm(`Deactivate ${repo.slug}? Its webhook is removed and pushes stop building. Builds and settings are kept.`)) return;
    setState({ busy: true });
    try {
      await api(`/api/repos/${repoPath(repo.slug)}`, { method: 'DELETE' });
      navigate('/');
    } catch (err) {
      setState({ error: messageOf(err) });
    }
  };
  return (
    <section className="card settings-card danger" aria-labelledby="danger-head">
      <h2 id="danger-head">Deactivate</h2>
      <p>Removes the webhook at the provider; pushes stop building. Builds, secrets and settings stay, for when you activate it again.</p>
      {state.error && (
        <p className="notice notice-error" role="alert">
          {state.error}
        </p>
      )}
      <button type="button" className="btn btn-danger" onClick={deactivate} disabled={state.busy}>
        {state.busy ? 'Deactivating…' : `Deactivate ${repo.slug}`}
      </button>
    </section>
  );
}
