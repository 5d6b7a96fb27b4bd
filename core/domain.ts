// Harrier's domain types, shared by the server, the runner and the web UI.
// The JSON shapes (snake_case field names, unix-second timestamps) are Drone's,
// so clients written for Drone's REST API read Harrier's unchanged.

export const STATUSES = [
  'pending',
  'running',
  'success',
  'failure',
  'error',
  'killed',
  'skipped',
  'blocked',
  'declined',
  'waiting_on_dependencies',
] as const;
export type Status = (typeof STATUSES)[number];

/** A status from which nothing more will happen. */
export function isDone(status: Status): boolean {
  return !['pending', 'running', 'blocked', 'waiting_on_dependencies'].includes(status);
}

/** The build's outcome is a failure when any of these is reached by a non-ignored step or stage. */
export function isFailed(status: Status): boolean {
  return status === 'failure' || status === 'error' || status === 'killed';
}

export type Provider = 'github' | 'bitbucket';

export type EventName = 'push' | 'pull_request' | 'tag' | 'promote' | 'rollback' | 'cron' | 'custom';

export interface User {
  id: number;
  login: string;
  email: string;
  machine: boolean;
  admin: boolean;
  active: boolean;
  avatar: string;
  /** Which provider this account signed in with. A Harrier extension to Drone's user. */
  provider: Provider;
  syncing: boolean;
  synced: number;
  created: number;
  updated: number;
  last_login: number;
}

export interface Repo {
  id: number;
  /** The provider's own id for the repository. */
  uid: string;
  user_id: number;
  namespace: string;
  name: string;
  slug: string;
  scm: Provider;
  git_http_url: string;
  git_ssh_url: string;
  link: string;
  default_branch: string;
  private: boolean;
  visibility: 'public' | 'private' | 'internal';
  active: boolean;
  config_path: string;
  trusted: boolean;
  protected: boolean;
  ignore_forks: boolean;
  ignore_pull_requests: boolean;
  /** Minutes a stage may run before it is killed. */
  timeout: number;
  counter: number;
  synced: number;
  created: number;
  updated: number;
  version: number;
  /** Only present in GET /api/user/repos and GET /api/repos/{owner}/{name}. */
  permissions?: Permission;
  /** Harrier addition, only for callers with admin permission, in the answers of /api/repos/{owner}/{name}. */
  webhook?: Webhook;
  /** Only in GET /api/user/repos, as Drone's ?latest=true has it: the repository's last build; absent when it has none. */
  build?: Build;
}

/** The webhook Harrier created at the provider when the repository was activated. */
export interface Webhook {
  /** Whether Harrier holds a webhook for the repository (it is active and the hook was created). */
  active: boolean;
  /** The provider's hook id; empty when there is none. */
  id: string;
  /** Where the provider delivers: HARRIER_HOST/hook. */
  url: string;
}

export interface Permission {
  read: boolean;
  write: boolean;
  admin: boolean;
}

export interface Build {
  id: number;
  repo_id: number;
  trigger: string;
  number: number;
  parent: number;
  status: Status;
  error: string;
  event: EventName;
  action: string;
  link: string;
  timestamp: number;
  title: string;
  message: string;
  before: string;
  after: string;
  ref: string;
  source_repo: string;
  source: string;
  target: string;
  author_login: string;
  author_name: string;
  author_email: string;
  author_avatar: string;
  sender: string;
  params: Record<string, string>;
  cron: string;
  deploy_to: string;
  started: number;
  finished: number;
  created: number;
  updated: number;
  version: number;
  /** Harrier addition: "file" when the build ran the repository's pipeline file, "proposal" when it ran the language settings' proposed pipeline. */
  config_source: 'file' | 'proposal';
  /** Harrier addition: who approved (or, when declined, declined) a build that waited in `blocked`; empty when it never waited. */
  approved_by?: string;
  /** Harrier addition: when (unix seconds) the log retention policy removed the build's logs; 0 while they are kept. */
  logs_purged?: number;
  stages?: Stage[];
}

export interface Stage {
  id: number;
  repo_id: number;
  build_id: number;
  number: number;
  name: string;
  kind: string;
  type: string;
  status: Status;
  error: string;
  errignore: boolean;
  exit_code: number;
  machine: string;
  os: string;
  arch: string;
  variant: string;
  kernel: string;
  limit: number;
  started: number;
  stopped: number;
  created: number;
  updated: number;
  version: number;
  on_success: boolean;
  on_failure: boolean;
  depends_on: string[];
  labels: Record<string, string>;
  /** Harrier addition, in GET …/builds/{number} and …/builds/latest: why a pending or waiting_on_dependencies stage has not started, e.g. "no runner has labels gpu=yes". */
  waiting?: string;
  steps?: Step[];
  /** Harrier addition: which run of the stage this is, 1 until it is retried (POST …/builds/{number}/retry). */
  attempt: number;
  /** Harrier addition, with the build's stages: the stage's earlier runs, oldest first. */
  attempts?: StageAttempt[];
}

/** An earlier run of a retried stage, as it ended. Its steps' logs: GET …/logs/{stage}/{step}?attempt={attempt}. */
export interface StageAttempt {
  attempt: number;
  status: Status;
  error: string;
  exit_code: number;
  /** The runner that ran it. */
  machine: string;
  started: number;
  stopped: number;
  steps: StepAttempt[];
}

/** A step of an earlier run of a stage, as it ended. */
export interface StepAttempt {
  number: number;
  name: string;
  status: Status;
  exit_code: number;
  error: string;
  started: number;
  stopped: number;
  log_cut: boolean;
}

export interface Step {
  id: number;
  /** The id of the stage the step belongs to (Drone's field name). */
  step_id: number;
  number: number;
  name: string;
  status: Status;
  error: string;
  errignore: boolean;
  exit_code: number;
  started: number;
  stopped: number;
  version: number;
  depends_on: string[];
  image: string;
  detached: boolean;
  schema: string;
  /** The log was cut: it reached the runner's cap, or its output could not be read to the end. */
  log_cut?: boolean;
}

/**
 * A repository secret as the REST API shows it (Drone's secret JSON): never its value,
 * which only runners receive, for the stages that name it.
 */
export interface Secret {
  id: number;
  repo_id: number;
  name: string;
  /** Whether pull requests from forks get it; without it they never do. */
  pull_request: boolean;
}

/** A cron job, as Drone's /api/repos/{owner}/{name}/cron answers it. Times are unix seconds, UTC. */
export interface Cron {
  id: number;
  repo_id: number;
  /** Unique in its repository; the {cron} of the job's own path, and DRONE_CRON in its builds. */
  name: string;
  /** Five fields (minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly, @monthly, @yearly. */
  expr: string;
  /** When it fires next; 0 while disabled. */
  next: number;
  /** When it last fired; 0 before it ever did. */
  prev: number;
  branch: string;
  disabled: boolean;
  /** Harrier addition: why its last scheduled run made no build (the branch is gone, the provider failed); empty when it did. */
  error: string;
  created: number;
  updated: number;
  version: number;
}

/**
 * An organisation secret as the REST API shows it (Drone's secret JSON for
 * /api/secrets/{namespace}: `namespace` where a repository secret has `repo_id`), never its value.
 */
export interface OrgSecret {
  id: number;
  /** The organisation (GitHub) or workspace (Bitbucket), lower-cased. */
  namespace: string;
  name: string;
  /** Whether pull requests from forks get it; without it they never do. */
  pull_request: boolean;
}

/** One line of a step's log, as Drone's logs endpoint returns it. */
export interface LogLine {
  /** Zero-based line number within the step. */
  pos: number;
  /** The line's text including its trailing newline. */
  out: string;
  /** Seconds since the step started. */
  time: number;
}

/** A webhook delivery translated from the provider's payload. Nothing provider-specific leaks past it. */
export interface Hook {
  provider: Provider;
  /** The provider's delivery id, used to refuse duplicates. */
  deliveryId: string;
  event: 'push' | 'pull_request' | 'tag';
  /** For pull requests: opened, synchronized, reopened. Empty for pushes and tags. */
  action: string;
  repo: HookRepo;
  /** Full ref: refs/heads/main, refs/tags/v1, refs/pull/1/head. */
  ref: string;
  /** Branch for pushes; target branch for pull requests; empty for tags. */
  target: string;
  /** Branch for pushes; source branch for pull requests; tag name for tags. */
  source: string;
  /** Slug of the repository the change comes from (a fork's for a fork's pull request). */
  sourceRepo: string;
  fork: boolean;
  before: string;
  after: string;
  message: string;
  title: string;
  link: string;
  pullRequest: number;
  author: CommitAuthor;
  sender: string;
  timestamp: number;
}

/** The author of a change, as a delivery or the provider's API names them. */
export interface CommitAuthor {
  login: string;
  name: string;
  email: string;
  avatar: string;
}

/**
 * A commit as the provider's API tells it (Drone's core.Commit, go-scm's Git.FindCommit): what a
 * build no webhook started (a manual or cron build) takes its message, link and author from.
 */
export interface Commit {
  sha: string;
  message: string;
  /** The commit's page on the provider. */
  link: string;
  /** The author date, unix seconds. */
  timestamp: number;
  /** `login` and `avatar` are empty when the provider links the author's email to no account. */
  author: CommitAuthor;
}

export interface HookRepo {
  uid: string;
  namespace: string;
  name: string;
  slug: string;
  cloneUrl: string;
  sshUrl: string;
  link: string;
  defaultBranch: string;
  private: boolean;
}

/** Credentials the runner uses to clone a private repository. */
export interface Netrc {
  machine: string;
  login: string;
  password: string;
}

/** GET /api/system: what the sign-in page needs to know. */
export interface SystemJson {
  version: string;
  /** HARRIER_HOST: the server's public URL, e.g. https://ci.example.com */
  host: string;
  providers: Record<Provider, boolean>;
}

/** GET /api/runners: a runner as the server last heard from it. */
export interface RunnerJson {
  name: string;
  labels: Record<string, string>;
  capacity: number;
  os: string;
  arch: string;
  version: string;
  /** Unix seconds of the runner's last ping or poll. */
  last_contact: number;
  /** Heard from within the last minute. */
  online: boolean;
  /** Why the runner takes no work (its container engine does not answer); empty when healthy. */
  sick: string;
  /** The runner is shutting down: it takes no new stage and finishes the ones it runs. */
  stopping: boolean;
  running: RunningStageJson[];
}

/**
 * GET /api/runners/tokens: a runner token an administrator issued. The token itself is shown
 * once, in the answer to POST /api/runners/tokens (RunnerTokenIssuedJson); `id` is its sha256.
 */
export interface RunnerTokenJson {
  id: string;
  /** The runner name the token speaks for. */
  runner: string;
  /** Login of the administrator who issued it. */
  created_by: string;
  /** Unix seconds. */
  created: number;
  /** Unix seconds of its last use, to the minute; 0 when never used. */
  last_used: number;
  /** Unix seconds it was revoked; 0 while it is valid. */
  revoked: number;
}

/** POST /api/runners/tokens: the token, shown this once. */
export interface RunnerTokenIssuedJson extends RunnerTokenJson {
  token: string;
}

export interface RunningStageJson {
  stage_id: number;
  /** The stage's (pipeline's) name. */
  stage: string;
  /** The build number. */
  build: number;
  /** The repository's slug. */
  repo: string;
  status: Status;
}

/** What became of a webhook delivery: waiting or being handled, or one of its three outcomes. */
export type DeliveryStatus = 'pending' | 'running' | 'built' | 'ignored' | 'failed';

/** GET /api/repos/{owner}/{name}/deliveries: a webhook delivery and what became of it. */
export interface DeliveryJson {
  id: number;
  /** The provider's delivery id; `redelivery-<uuid>` for one sent again from Harrier. */
  guid: string;
  event: string;
  /** The action Harrier reads from it (opened, synchronized, …); empty when it has none. */
  action: string;
  status: DeliveryStatus;
  /** Why it was ignored or failed (with the provider's error), or why a retry waits; empty when built. */
  reason: string;
  /** The number of the build it made, or null. */
  build: number | null;
  /** Times a worker took it. */
  attempts: number;
  /** Unix seconds. */
  created: number;
  /** Unix seconds it was built, ignored or failed; 0 before. */
  finished: number;
  /** The delivery it repeats, or null. */
  redelivery_of: number | null;
}

/** GET/PATCH /api/repos/{owner}/{name}/language and POST …/language/detect answer this. */
export interface LanguageSettings<L extends string = string> {
  /** The language in effect: the one stored, or the detected one before anything is stored. */
  language: L;
  /** What the repository's files say at `commit`; '' when nothing was detected yet (only signed-in callers cause a detection). */
  detected: L | '';
  languages: { id: L; name: string }[];
  /** The pipeline builds run when a commit has no pipeline file; empty when there is none. */
  proposal: string;
  /** The unedited proposal for `language`, to start from or reset to. */
  default_proposal: string;
  config_path: string;
  /** Whether the default branch has config_path; builds of such commits run the file, not the proposal. Null when not known yet. */
  has_config: boolean | null;
  /** The commit of the default branch that `detected` and `has_config` describe; '' when none. */
  commit: string;
}

/** GET /api/queue: where work waits, by the labels stages ask for (a Harrier addition). */
export interface QueueJson {
  label_sets: {
    os: string;
    arch: string;
    labels: Record<string, string>;
    waiting: number;
    running: number;
    oldest_waiting_seconds: number;
    /** Online runners, neither sick nor stopping, that may take these stages. */
    runners: number;
  }[];
  runners: { connected: number; busy: number; capacity: number };
}
