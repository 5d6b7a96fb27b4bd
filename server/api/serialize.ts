// Database rows to the Drone-shaped JSON of core/domain.ts. Nothing else turns
// rows into API answers, so field names stay the same everywhere.
import type { Build, EventName, Repo, Stage, StageAttempt, Status, Step, StepAttempt, User } from '../../core/domain.ts';
import type {
  Build as BuildRow,
  Repo as RepoRow,
  Stage as StageRow,
  StageAttempt as StageAttemptRow,
  Step as StepRow,
  User as UserRow,
} from '../db/generated/sqlite/client.ts';
import type { ArchivedStep } from '../builds/retry-build.ts';

function json<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export function userJson(u: UserRow): User {
  return {
    id: u.id,
    login: u.login,
    email: u.email,
    machine: false,
    admin: u.admin,
    active: u.active,
    avatar: u.avatar,
    provider: u.provider as User['provider'],
    syncing: false,
    synced: u.syncedAt,
    created: u.createdAt,
    updated: u.updatedAt,
    last_login: u.lastLogin,
  };
}

/**
 * `host` (HARRIER_HOST) adds the webhook's state for callers with admin permission,
 * as the repository's own endpoints answer it; lists and runners go without.
 */
export function repoJson(r: RepoRow, perm?: { read: boolean; write: boolean; admin: boolean }, host?: string): Repo {
  return {
    id: r.id,
    uid: r.uid,
    user_id: r.userId ?? 0,
    namespace: r.namespace,
    name: r.name,
    slug: r.slug,
    scm: r.provider as Repo['scm'],
    git_http_url: r.cloneUrl,
    git_ssh_url: r.sshUrl,
    link: r.link,
    default_branch: r.defaultBranch,
    private: r.private,
    visibility: r.visibility as Repo['visibility'],
    active: r.active,
    config_path: r.configPath,
    trusted: r.trusted,
    protected: r.protected,
    ignore_forks: r.ignoreForks,
    ignore_pull_requests: r.ignorePullRequests,
    timeout: r.timeout,
    counter: r.counter,
    synced: r.syncedAt,
    created: r.createdAt,
    updated: r.updatedAt,
    version: r.version,
    ...(perm ? { permissions: { read: perm.read, write: perm.write, admin: perm.admin } } : {}),
    ...(perm?.admin && host !== undefined ? { webhook: { active: r.active && r.hookId !== '', id: r.hookId, url: `${host}/hook` } } : {}),
  };
}

export function stepJson(s: StepRow): Step {
  return {
    id: s.id,
    step_id: s.stageId,
    number: s.number,
    name: s.name,
    status: s.status as Status,
    error: s.error,
    errignore: s.errignore,
    exit_code: s.exitCode,
    started: s.started,
    stopped: s.stopped,
    version: s.version,
    depends_on: json<string[]>(s.dependsOn, []),
    image: s.image,
    detached: s.detached,
    log_cut: s.logCut,
    schema: '',
  };
}

export function stageAttemptJson(a: StageAttemptRow): StageAttempt {
  const steps = json<ArchivedStep[]>(a.steps, []).map(
    (s): StepAttempt => ({ number: s.number, name: s.name, status: s.status as Status, exit_code: s.exitCode, error: s.error, started: s.started, stopped: s.stopped, log_cut: s.logCut }),
  );
  return { attempt: a.attempt, status: a.status as Status, error: a.error, exit_code: a.exitCode, machine: a.machine, started: a.started, stopped: a.stopped, steps };
}

type StageWith = StageRow & { steps?: StepRow[]; attempts?: StageAttemptRow[] };

/** `waiting` says why a stage that has not started waits (server/builds/waiting-reason.ts). */
export function stageJson(s: StageWith, waiting?: string): Stage {
  return {
    id: s.id,
    repo_id: s.repoId,
    build_id: s.buildId,
    number: s.number,
    name: s.name,
    kind: s.kind,
    type: s.type,
    status: s.status as Status,
    error: s.error,
    errignore: s.errignore,
    exit_code: s.exitCode,
    machine: s.machine,
    os: s.os,
    arch: s.arch,
    variant: s.variant,
    kernel: s.kernel,
    limit: s.limit,
    started: s.started,
    stopped: s.stopped,
    created: s.createdAt,
    updated: s.updatedAt,
    version: s.version,
    on_success: s.onSuccess,
    on_failure: s.onFailure,
    depends_on: json<string[]>(s.dependsOn, []),
    labels: json<Record<string, string>>(s.labels, {}),
    ...(waiting !== undefined ? { waiting } : {}),
    ...(s.steps ? { steps: [...s.steps].sort((a, b) => a.number - b.number).map(stepJson) } : {}),
    attempt: s.attempt,
    ...(s.attempts ? { attempts: [...s.attempts].sort((a, b) => a.attempt - b.attempt).map(stageAttemptJson) } : {}),
  };
}

/** `waiting`: why stages wait, by stage id, for the build's own endpoints. */
export function buildJson(b: BuildRow & { stages?: StageWith[] }, waiting?: Map<number, string>): Build {
  return {
    id: b.id,
    repo_id: b.repoId,
    trigger: b.trigger,
    number: b.number,
    parent: b.parent,
    status: b.status as Status,
    error: b.error,
    event: b.event as EventName,
    action: b.action,
    link: b.link,
    timestamp: b.timestamp,
    title: b.title,
    message: b.message,
    before: b.before,
    after: b.after,
    ref: b.ref,
    source_repo: b.sourceRepo,
    source: b.source,
    target: b.target,
    author_login: b.authorLogin,
    author_name: b.authorName,
    author_email: b.authorEmail,
    author_avatar: b.authorAvatar,
    sender: b.sender,
    params: json<Record<string, string>>(b.params, {}),
    cron: b.cron,
    deploy_to: b.deployTo,
    started: b.started,
    finished: b.finished,
    created: b.createdAt,
    updated: b.updatedAt,
    version: b.version,
    config_source: b.configSource as Build['config_source'],
    approved_by: b.approvedBy,
    logs_purged: b.logsPurged,
    ...(b.stages ? { stages: [...b.stages].sort((x, y) => x.number - y.number).map((s) => stageJson(s, waiting?.get(s.id))) } : {}),
  };
}
