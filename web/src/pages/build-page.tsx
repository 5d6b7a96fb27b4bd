// One build: what it built, its stages and steps, and the selected step's log, all live.
// Actions: cancel while it runs, restart when it is done (a new build, opened at once),
// approve or decline while it waits for approval (blocked), promote or roll back to it
// (a new build of its commit for a target, opened at once), retry what failed in place
// (the same build; each retried stage keeps its earlier attempts, shown by a switch).
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, messageOf, repoPath } from '../api/client.ts';
import { useRepoStream } from '../api/repo-stream.ts';
import type { Build, Repo, Stage, Status } from '../api/types.ts';
import { isDone, isFailed } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { buildTitle, BuildRef } from '../components/build-ref.tsx';
import { ErrorNotice, LiveRegion, Loading } from '../components/common.tsx';
import { RepoHeader } from '../components/repo-header.tsx';
import { StatusPill, statusLabel } from '../components/status.tsx';
import { Ago, Duration } from '../components/time.tsx';
import type { LineRange } from '../log/log-viewer.tsx';
import { navigate, repoUrl, useLocation } from '../router.tsx';
import { useTitle } from '../session.tsx';
import { shownAttempt, StageTree, type StepKey } from './stage-tree.tsx';
import { StartBuildForm } from './start-build-form.tsx';
import { purgedText, StepLog } from './step-log.tsx';

/** While a build runs, its page also refetches this often, in case a step change had no build event. */
const RUNNING_REFRESH_MS = 4000;

/** The step to show when the URL names none: the running one, else the first failure, else the last that ran. */
export function defaultStep(stages: Stage[]): StepKey | undefined {
  const all = stages.flatMap((s) => (s.steps ?? []).map((st) => ({ stage: s.number, step: st.number, status: st.status as Status })));
  const pick =
    all.find((x) => x.status === 'running') ??
    all.find((x) => isFailed(x.status)) ??
    [...all].reverse().find((x) => x.status !== 'skipped' && x.status !== 'pending') ??
    all[0];
  return pick && { stage: pick.stage, step: pick.step };
}

export function parseLineHash(hash: string): LineRange | null {
  const m = /^#L(\d+)(?:-L?(\d+))?$/.exec(hash);
  if (!m) return null;
  const a = Number(m[1]);
  const b = m[2] ? Number(m[2]) : a;
  return { from: Math.min(a, b), to: Math.max(a, b) };
}

export function BuildPage({ slug, number, stage, step }: { slug: string; number: number; stage?: number; step?: number }) {
  const loc = useLocation();
  const repo = useApi<Repo>(`/api/repos/${repoPath(slug)}`);
  const build = useApi<Build>(`/api/repos/${repoPath(slug)}/builds/${number}`);
  const [action, setAction] = useState<{ busy?: 'cancel' | 'restart' | 'approve' | 'decline' | 'retry'; error?: unknown }>({});
  // The attempt shown of each retried stage, by stage number; the current one when absent.
  const [attempts, setAttempts] = useState<Record<number, number>>({});
  const [announce, setAnnounce] = useState('');
  const [promoting, setPromoting] = useState(false);
  const b = build.data;
  useTitle(b ? `#${number} ${buildTitle(b)} · ${slug}` : `#${number} · ${slug}`);

  // Refetches are coalesced: a burst of events costs one request.
  const refetchTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const refetch = useCallback(() => {
    if (refetchTimer.current) return;
    refetchTimer.current = setTimeout(() => {
      refetchTimer.current = undefined;
      void build.reload();
    }, 150);
  }, [build.reload]);
  useEffect(() => () => clearTimeout(refetchTimer.current), []);

  useRepoStream(slug, {
    onBuild: (event) => {
      if (event.number === number) refetch();
    },
    onResync: refetch,
  });

  // A cancelled build is done at once, but its steps stop a moment later: keep refreshing until they have.
  // A blocked build waits for a person, who acts on this page or another (the live stream tells).
  const live = (status: Status) => !isDone(status) && status !== 'blocked';
  const running = b ? live(b.status) || (b.stages ?? []).some((s) => live(s.status) || (s.steps ?? []).some((st) => live(st.status))) : false;
  useEffect(() => {
    if (!running) return;
    const id = setInterval(refetch, RUNNING_REFRESH_MS);
    return () => clearInterval(id);
  }, [running, refetch]);

  const lastStatus = useRef<string>(undefined);
  useEffect(() => {
    if (!b) return;
    if (lastStatus.current && lastStatus.current !== b.status) setAnnounce(`Build ${b.number} ${statusLabel(b.status).toLowerCase()}`);
    lastStatus.current = b.status;
  }, [b?.status]);

  if (!b) {
    return (
      <div className="page wide">
        <RepoHeader slug={slug} repo={repo.data} tab="build" />
        {build.error ? <ErrorNotice title={`Could not load build ${number}`} error={build.error} /> : <Loading what={`build ${number}`} />}
      </div>
    );
  }

  const stages = (b.stages ?? []) as Stage[];
  const explicit = stage !== undefined && step !== undefined ? { stage, step } : undefined;
  const selected = explicit ?? defaultStep(stages);
  const selectedStage = selected && stages.find((s) => s.number === selected.stage);
  const pastAttempt = selectedStage && shownAttempt(selectedStage, attempts[selectedStage.number]);
  const selectedStep = selected && (pastAttempt ?? selectedStage)?.steps?.find((s) => s.number === selected.step);
  const stepUrl = (k: StepKey) => repoUrl(slug, `/${number}/${k.stage}/${k.step}`);
  // Until the repository's permissions arrive, offer nothing a reader could not do.
  const canWrite = repo.data?.permissions?.write ?? false;

  const cancel = async () => {
    setAction({ busy: 'cancel' });
    try {
      build.setData(await api<Build>(`/api/repos/${repoPath(slug)}/builds/${number}`, { method: 'DELETE' }));
      setAction({});
      setAnnounce(`Build ${number} cancelled`);
    } catch (error) {
      setAction({ error });
    }
  };
  const decide = async (verb: 'approve' | 'decline') => {
    setAction({ busy: verb });
    try {
      build.setData(await api<Build>(`/api/repos/${repoPath(slug)}/builds/${number}/${verb}`, { method: 'POST' }));
      setAction({});
      setAnnounce(`Build ${number} ${verb}d`);
    } catch (error) {
      setAction({ error });
    }
  };
  const retry = async () => {
    setAction({ busy: 'retry' });
    try {
      build.setData(await api<Build>(`/api/repos/${repoPath(slug)}/builds/${number}/retry`, { method: 'POST' }));
      setAttempts({});
      setAction({});
      setAnnounce(`Build ${number} retried`);
    } catch (error) {
      setAction({ error });
    }
  };
  const restart = async () => {
    setAction({ busy: 'restart' });
    try {
      const fresh = await api<Build>(`/api/repos/${repoPath(slug)}/builds/${number}`, { method: 'POST' });
      navigate(repoUrl(slug, `/${fresh.number}`));
    } catch (error) {
      setAction({ error });
    }
  };

  return (
    <div className="page wide">
      <RepoHeader slug={slug} repo={repo.data} tab="build" />
      <LiveRegion message={announce} />
      <div className="build-head">
        <div className="build-head-main">
          <h2 className="build-title">
            <StatusPill status={b.status} />
            <span>{buildTitle(b)}</span>
            <span className="muted build-number">#{b.number}</span>
          </h2>
          <div className="build-meta small">
            <BuildRef build={b} />
            <span className="muted">
              {b.started ? (
                <>
                  started <Ago unix={b.started} />
                </>
              ) : (
                <>
                  created <Ago unix={b.created} />
                </>
              )}
            </span>
            {b.started > 0 && (
              <span className="muted">
                took <Duration started={b.started} stopped={b.finished} />
              </span>
            )}
            {b.parent > 0 && <span className="muted">{parentText(b)}</span>}
            {b.approved_by && b.status !== 'declined' && <span className="muted">approved by {b.approved_by}</span>}
          </div>
        </div>
        {canWrite && (
          <div className="build-actions">
            {b.status === 'blocked' ? (
              <>
                <button type="button" className="btn btn-primary" onClick={() => decide('approve')} disabled={!!action.busy}>
                  {action.busy === 'approve' ? 'Approving…' : 'Approve'}
                </button>
                <button type="button" className="btn btn-danger" onClick={() => decide('decline')} disabled={!!action.busy}>
                  {action.busy === 'decline' ? 'Declining…' : 'Decline'}
                </button>
              </>
            ) : b.status === 'declined' ? null : running ? (
              <button type="button" className="btn btn-danger" onClick={cancel} disabled={!!action.busy}>
                {action.busy === 'cancel' ? 'Cancelling…' : 'Cancel'}
              </button>
            ) : (
              <>
                {isFailed(b.status) && (
                  <button type="button" className="btn btn-primary" onClick={retry} disabled={!!action.busy}>
                    {action.busy === 'retry' ? 'Retrying…' : 'Retry failed'}
                  </button>
                )}
                <button type="button" className="btn" onClick={restart} disabled={!!action.busy}>
                  {action.busy === 'restart' ? 'Restarting…' : 'Restart'}
                </button>
              </>
            )}
            {b.status !== 'blocked' && b.status !== 'declined' && (
              <button type="button" className="btn" onClick={() => setPromoting(true)} disabled={promoting}>
                Promote
              </button>
            )}
          </div>
        )}
      </div>
      {promoting && (
        <StartBuildForm
          slug={slug}
          title={`Promote build ${number}`}
          field={{ name: 'target', label: 'Target', initial: '', required: true, hint: 'The environment, e.g. production: DRONE_DEPLOY_TO, matched by trigger.target and when.target.' }}
          actions={[
            { label: 'Promote', busyLabel: 'Promoting…', path: `/builds/${number}/promote` },
            { label: 'Roll back', busyLabel: 'Rolling back…', path: `/builds/${number}/rollback` },
          ]}
          onCancel={() => setPromoting(false)}
        />
      )}
      <ErrorNotice error={action.error} />
      <ApprovalNotice build={b} slug={slug} canWrite={canWrite} />
      {b.error && (
        <div className="notice notice-error" role="alert">
          <pre className="pipeline-error">{b.error}</pre>
        </div>
      )}
      {b.config_source === 'proposal' && (
        <p className="notice small">
          This commit has no <code>{repo.data?.config_path || '.drone.yml'}</code>, so it built the pipeline proposed in the repository's language
          settings.
        </p>
      )}
      <div className="build-layout">
        <aside className="build-side">
          <StageTree stages={stages} selected={selected} stepUrl={stepUrl} attempts={attempts} onAttempt={(stageNo, n) => setAttempts((a) => ({ ...a, [stageNo]: n }))} />
        </aside>
        <div className="build-log">
          {selected && selectedStep ? (
            <StepLog
              key={`${selected.stage}/${selected.step}@${pastAttempt?.attempt ?? `current ${selectedStage?.attempt}`}`}
              at={{ slug, build: number, stage: selected.stage, step: selected.step, attempt: pastAttempt?.attempt, current: selectedStage?.attempt }}
              step={selectedStep}
              purged={b.logs_purged ? purgedText(b) : undefined}
              selection={parseLineHash(loc.hash)}
              onSelect={(r) => navigate(`${stepUrl(selected)}#L${r.from}${r.to !== r.from ? `-L${r.to}` : ''}`, { replace: true })}
              onDone={refetch}
            />
          ) : (
            <p className="muted">{stages.length ? 'Choose a step to see its log.' : ''}</p>
          )}
        </div>
      </div>
    </div>
  );
}

/** What the build's parent (DRONE_BUILD_PARENT) is to it. */
function parentText(b: Build): string {
  if (b.event === 'promote') return `promotion of #${b.parent} to ${b.deploy_to}`;
  if (b.event === 'rollback') return `rollback to #${b.parent} on ${b.deploy_to}`;
  return `restart of #${b.parent}`;
}

/** Why a build waits for approval, or who declined it. */
function ApprovalNotice({ build, slug, canWrite }: { build: Build; slug: string; canWrite: boolean }) {
  if (build.status === 'declined') {
    return (
      <p className="notice notice-info" role="status">
        Declined{build.approved_by ? ` by ${build.approved_by}` : ''}: this build never ran.
      </p>
    );
  }
  if (build.status !== 'blocked') return null;
  const fork = build.event === 'pull_request' && build.source_repo !== '' && build.source_repo.toLowerCase() !== slug.toLowerCase();
  return (
    <p className="notice notice-info" role="status">
      This build waits for approval.{' '}
      {fork
        ? `It comes from a fork (${build.source_repo}); once approved it runs with the repository's trusted settings and the secrets allowed for pull requests. `
        : 'The repository is protected: every build waits until someone approves it. '}
      {canWrite ? 'Read its changes before you approve it.' : 'A user with write permission on the repository can approve or decline it.'}
    </p>
  );
}
