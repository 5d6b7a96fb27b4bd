// Cron jobs: builds of a branch's head on a schedule (UTC). Each is listed with when it
// last fired and fires next, and can be run now, switched off and on, or deleted.
import { useState, type FormEvent } from 'react';
import { api, messageOf, repoPath } from '../api/client.ts';
import type { Build, Cron } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { ErrorNotice, Loading } from '../components/common.tsx';
import { Link, repoUrl } from '../router.tsx';

/** The server's rule: the name is a path segment and DRONE_CRON's value. */
const NAME = /^[A-Za-z0-9_.-]+$/;

/** Unix seconds as the server schedules them: in UTC. */
function UtcTime({ unix, none }: { unix: number; none: string }) {
  if (!unix) return <span className="muted">{none}</span>;
  const iso = new Date(unix * 1000).toISOString();
  return <time dateTime={iso}>{`${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`}</time>;
}

export function CronJobsSection({ slug, defaultBranch, onChanged }: { slug: string; defaultBranch: string; onChanged: (message: string) => void }) {
  const base = `/api/repos/${repoPath(slug)}/cron`;
  const jobs = useApi<Cron[]>(base);
  const [adding, setAdding] = useState(false);
  const [started, setStarted] = useState<{ job: string; build: number } | null>(null);

  const act = async (job: Cron, what: 'run' | 'toggle' | 'delete') => {
    const path = `${base}/${encodeURIComponent(job.name)}`;
    if (what === 'run') {
      const build = await api<Build>(path, { method: 'POST' });
      setStarted({ job: job.name, build: build.number });
      onChanged(`Cron job ${job.name} started build ${build.number}`);
    } else if (what === 'toggle') {
      await api(path, { method: 'PATCH', body: { disabled: !job.disabled } });
      onChanged(`Cron job ${job.name} ${job.disabled ? 'enabled' : 'disabled'}`);
    } else {
      if (!confirm(`Delete the cron job ${job.name}?`)) return;
      await api(path, { method: 'DELETE' });
      onChanged(`Cron job ${job.name} deleted`);
    }
    await jobs.reload();
  };
  const add = async (job: { name: string; expr: string; branch?: string }) => {
    await api(base, { method: 'POST', body: job });
    await jobs.reload();
    setAdding(false);
    onChanged(`Cron job ${job.name} added`);
  };

  return (
    <section className="card settings-card" aria-labelledby="cron-head">
      <h2 id="cron-head">Cron jobs</h2>
      <p className="hint">
        A cron job builds the head of a branch on a schedule, in UTC, with the event <code>cron</code>; pipelines pick such builds with{' '}
        <code>trigger: cron:</code> or <code>when: cron:</code> and the job&apos;s name, which steps read in <code>DRONE_CRON</code>.
      </p>
      <ErrorNotice error={jobs.error} />
      {started && (
        <p className="notice" role="status">
          {started.job} started <Link to={repoUrl(slug, `/${started.build}`)}>build #{started.build}</Link>.
        </p>
      )}
      {!jobs.data ? (
        jobs.loading && <Loading what="cron jobs" />
      ) : jobs.data.length === 0 ? (
        <p className="muted">No cron jobs yet.</p>
      ) : (
        <ul className="secret-list" aria-label="Cron jobs">
          {jobs.data.map((job) => (
            <CronRow key={job.name} job={job} onAct={(what) => act(job, what)} />
          ))}
        </ul>
      )}
      {adding ? (
        <CronForm defaultBranch={defaultBranch} onSave={add} onCancel={() => setAdding(false)} />
      ) : (
        <button type="button" className="btn" onClick={() => setAdding(true)}>
          Add a cron job
        </button>
      )}
    </section>
  );
}

function CronRow({ job, onAct }: { job: Cron; onAct: (what: 'run' | 'toggle' | 'delete') => Promise<void> }) {
  const [error, setError] = useState('');
  const run = (what: 'run' | 'toggle' | 'delete') => {
    setError('');
    onAct(what).catch((e) => setError(messageOf(e)));
  };
  return (
    <li className="secret-row" aria-label={`Cron job ${job.name}`}>
      <code className="secret-name">{job.name}</code>
      <code>{job.expr}</code>
      <span className="tag">{job.branch}</span>
      {job.disabled ? <span className="tag">disabled</span> : null}
      <span className="muted">
        next: <UtcTime unix={job.next} none={job.disabled ? 'never (disabled)' : 'now'} />
      </span>
      <span className="muted">
        last: <UtcTime unix={job.prev} none="never" />
      </span>
      <span className="spacer" />
      <button type="button" className="btn btn-small" onClick={() => run('run')} aria-label={`Run ${job.name} now`}>
        Run now
      </button>
      <button type="button" className="btn btn-small" onClick={() => run('toggle')} aria-label={`${job.disabled ? 'Enable' : 'Disable'} ${job.name}`}>
        {job.disabled ? 'Enable' : 'Disable'}
      </button>
      <button type="button" className="btn btn-small btn-danger-quiet" onClick={() => run('delete')} aria-label={`Delete ${job.name}`}>
        Delete
      </button>
      {job.error && (
        <span className="row-error" role="note">
          Last run: {job.error}
        </span>
      )}
      {error && (
        <span className="row-error" role="alert">
          {error}
        </span>
      )}
    </li>
  );
}

function CronForm({ defaultBranch, onSave, onCancel }: { defaultBranch: string; onSave: (job: { name: string; expr: string; branch?: string }) => Promise<void>; onCancel: () => void }) {
  const [name, setName] = useState('');
  const [expr, setExpr] = useState('');
  const [branch, setBranch] = useState('');
  const [state, setState] = useState<{ busy?: boolean; error?: unknown }>({});
  const nameOk = NAME.test(name);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setState({ busy: true });
    try {
      await onSave({ name, expr, ...(branch.trim() ? { branch: branch.trim() } : {}) });
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <form className="secret-form" onSubmit={submit} aria-label="New cron job">
      <div className="field">
        <label htmlFor="cron-new-name">Name</label>
        <input id="cron-new-name" value={name} onChange={(e) => setName(e.target.value)} required spellCheck={false} autoComplete="off" />
        {name && !nameOk && <p className="hint hint-error">Letters, digits, dots, dashes and underscores only.</p>}
      </div>
      <div className="field">
        <label htmlFor="cron-new-expr">Schedule (UTC)</label>
        <input id="cron-new-expr" className="mono" value={expr} onChange={(e) => setExpr(e.target.value)} placeholder="0 3 * * *" required spellCheck={false} autoComplete="off" />
        <p className="hint">
          Minute, hour, day of month, month, day of week (e.g. <code>0 3 * * 1-5</code>: 03:00 on weekdays), or <code>@hourly</code>, <code>@daily</code>,{' '}
          <code>@weekly</code>, <code>@monthly</code>, <code>@yearly</code>.
        </p>
      </div>
      <div className="field">
        <label htmlFor="cron-new-branch">Branch</label>
        <input id="cron-new-branch" value={branch} onChange={(e) => setBranch(e.target.value)} placeholder={defaultBranch} spellCheck={false} autoComplete="off" />
      </div>
      <ErrorNotice error={state.error} />
      <div className="form-foot">
        <button type="submit" className="btn btn-primary" disabled={state.busy || !nameOk || !expr.trim()}>
          {state.busy ? 'Adding…' : 'Add cron job'}
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
