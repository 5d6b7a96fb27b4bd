// The HTTP contract between the server and its runners, imported by both sides.
// Like Drone's runner protocol it is a handful of plain calls; every call carries
// `Authorization: Bearer <HARRIER_RPC_SECRET>`: the server's shared secret, or a runner
// token an administrator issued for this runner's name (POST /api/runners/tokens). The
// server checks it before reading any body; a wrong one is 401. Every call that names a
// stage or step carries the runner's name in RUNNER_HEADER: the server lets only the
// runner holding a stage change it (409 otherwise). With a runner token, every name the
// runner gives (RUNNER_HEADER, RunnerInfo.name, AcceptRequest.machine) must be the
// token's runner (403 otherwise).
//
// A runner holds what it accepted, and nothing else: accepting a stage puts a stage token
// in force (AcceptRequest.token; see there), and every later call about that stage (details,
// stage and step updates, log lines, release, and the watch of its build) carries it in
// STAGE_TOKEN_HEADER. A missing or wrong token is 403, even from the holder's name: a
// runner that could say another's name (all share one secret) still cannot read or change
// a stage it did not accept. The holder check comes first, so a runner that lost a stage
// still gets the 409 that tells it to stop.
//
// A runner holds each stage it took under a lease. Its ping (and its long poll) renew
// the leases of the stages it lists in `running`; a lease that is not renewed within
// the server's lease time ends: a stage whose steps had not started goes back to the
// queue, one whose steps had started ends `error` with the reason. A runner learns of
// stages it lost from the ping's answer and stops them without reporting more.

import type { Build, LogLine, Netrc, Repo, Stage, Status } from './domain.ts';

export const RPC_PREFIX = '/rpc/v1';

/** The name of the runner making a call; required on every call that names a stage or step. */
export const RUNNER_HEADER = 'x-harrier-runner';

/** The stage token (AcceptRequest.token) of the stage a call is about; required on every call about an accepted stage. */
export const STAGE_TOKEN_HEADER = 'x-harrier-stage-token';

export const rpcPaths = {
  /**
   * POST RunnerInfo -> 200 RequestResponse, or 204 when nothing arrived within the poll window.
   * The stage is only offered: it is the runner's once accept answers 200.
   */
  request: `${RPC_PREFIX}/request`,
  /**
   * POST AcceptRequest -> 200 AcceptResponse; 409 when another runner holds the stage, it ended,
   * or this runner holds it under another stage token. Idempotent for the same runner and
   * token: asking again after a lost answer gives the same stage, and the same token works.
   */
  accept: (stageId: number) => `${RPC_PREFIX}/stages/${stageId}/accept`,
  /** POST -> 204. Hands back a held stage whose steps have not started; it goes back to the queue. 409 once a step started. Stage token. */
  release: (stageId: number) => `${RPC_PREFIX}/stages/${stageId}/release`,
  /** GET -> StageDetails. Only for the runner that holds the stage (409 otherwise), with its stage token (403 otherwise). */
  details: (stageId: number) => `${RPC_PREFIX}/stages/${stageId}/details`,
  /** POST StageUpdate -> 200 Stage. 409 from a runner not holding it, or once the stage ended with another status. Stage token. */
  updateStage: (stageId: number) => `${RPC_PREFIX}/stages/${stageId}`,
  /** POST StepUpdate -> 200 Step. 409 as for updateStage; repeating the final update is answered 200. Token of the step's stage. */
  updateStep: (stepId: number) => `${RPC_PREFIX}/steps/${stepId}`,
  /** POST LogBatch -> 204. Lines are appended; a pos already stored is ignored. 409 from a runner not holding the stage. Token of the step's stage. */
  logs: (stepId: number) => `${RPC_PREFIX}/steps/${stepId}/logs`,
  /**
   * POST -> 200 WatchResponse when the build is cancelled or done, 204 when the poll window ends first.
   * Only for a runner holding one of the build's stages, with that stage's token (403 otherwise).
   */
  watch: (buildId: number) => `${RPC_PREFIX}/builds/${buildId}/watch`,
  /** POST RunnerInfo -> 200 PingResponse. Records the runner's last contact and renews the leases of its running stages. */
  ping: `${RPC_PREFIX}/ping`,
} as const;

/** How long the server holds a long-poll open before answering 204. Runners re-poll at once. */
export const LONG_POLL_MS = 25_000;

export interface RunnerInfo {
  name: string;
  /** key=value labels a stage's `node` section must match. */
  labels: Record<string, string>;
  capacity: number;
  /** Stages the runner is executing now. */
  running: number[];
  os: string;
  arch: string;
  version: string;
  /**
   * Random per runner process. A new instance under a known name means the runner
   * restarted: the stages its earlier process held end at once instead of at lease expiry.
   */
  instance?: string;
  /** Why the runner takes no work now (its container engine does not answer); empty when healthy. */
  sick?: string;
  /** The runner is shutting down: it takes no new stage. */
  stopping?: boolean;
}

export interface PingResponse {
  /** The server's lease time; the runner pings well within it. */
  lease_seconds: number;
  /** Stages the runner listed as running that it no longer holds (lease expired, build gone): stop them, report nothing more. */
  lost: number[];
}

export interface RequestResponse {
  stage: Stage;
}

export interface AcceptRequest {
  machine: string;
  /**
   * The stage token the runner will send in STAGE_TOKEN_HEADER: 32 random bytes, base64url
   * (43 characters; 32 to 128 of A-Z a-z 0-9 _ - are accepted). The runner makes it once
   * per stage and sends the same one when it asks again, so an accept whose answer was lost
   * is repeated with a token that works, and nobody else can get a working token for a
   * stage by accepting it again under the holder's name. The server keeps only its sha256,
   * from accept until the stage is handed back, requeued, or taken back at lease expiry;
   * once the stage ended, the token only gets the final report repeated.
   */
  token: string;
}

/** The accepted stage with its steps, and the stage token now in force (the one the runner sent). */
export type AcceptResponse = Stage & { token: string };

export interface SystemInfo {
  /** HARRIER_HOST, e.g. http://localhost:8080 */
  link: string;
  host: string;
  proto: string;
  version: string;
}

export interface StageDetails {
  repo: Repo;
  build: Build;
  /** The stage with its steps, as recorded by the server when the build was created. */
  stage: Stage;
  /** The full pipeline file the build was created from; the runner compiles its own stage from it. */
  config: string;
  /** Credentials for cloning; null for public repositories, and whenever clone_url names another repository. */
  netrc: Netrc | null;
  /**
   * Where the clone fetches the build's commit from when it is not repo.git_http_url: a fork's
   * clone URL, for a Bitbucket fork's pull request (Bitbucket has no pull request refs in the
   * destination repository). Absent (as from servers before it existed) means repo.git_http_url.
   */
  clone_url?: string;
  /**
   * Secrets the stage's pipeline names (from_secret in environment or settings, and
   * image_pull_secrets), decrypted, each under the name the pipeline wrote. Pull requests
   * get only secrets that allow them (Drone's rule); a named secret missing here fails its step.
   */
  secrets: { name: string; value: string }[];
  /**
   * Files the push or pull request changed, for `when.paths`; null when the provider did not
   * say, truncated its list, or was not asked (no `paths` condition in the file): `paths` then matches.
   * Absent (as from servers before it existed, or `harrier exec`) means null.
   */
  changed_files?: string[] | null;
  system: SystemInfo;
}

export interface StageUpdate {
  status: Status;
  error?: string;
  exit_code?: number;
  started?: number;
  stopped?: number;
}

export interface StepUpdate {
  status: Status;
  error?: string;
  exit_code?: number;
  started?: number;
  stopped?: number;
  /** The step's log was cut (it reached the runner's cap, or its output could not be read to the end). */
  log_cut?: boolean;
}

/**
 * Lines at consecutive positions from `first`, as two columns: a loud step sends a million
 * lines, and the server reads this form in a third of the time it takes for LogLine
 * objects, at a third of the bytes. out[i] and time[i] are the line at first + i.
 */
export interface LogColumns {
  first: number;
  out: string[];
  time: number[];
}

/** What POST /steps/{id}/logs takes: lines as objects (any positions), or in columns. */
export type LogBatch = LogLine[] | LogColumns;

/** `lines` in columns when their positions are consecutive; otherwise as they are. */
export function toLogBatch(lines: readonly LogLine[]): LogBatch {
  for (let i = 1; i < lines.length; i++) if (lines[i].pos !== lines[i - 1].pos + 1) return [...lines];
  if (lines.length === 0) return [];
  return { first: lines[0].pos, out: lines.map((l) => l.out), time: lines.map((l) => l.time) };
}

/** The lines of a batch in either form. */
export function linesOf(batch: LogBatch): LogLine[] {
  if (Array.isArray(batch)) return batch;
  const lines = new Array<LogLine>(batch.out.length);
  for (let i = 0; i < lines.length; i++) lines[i] = { pos: batch.first + i, out: batch.out[i], time: batch.time[i] };
  return lines;
}

export interface WatchResponse {
  /** True when someone cancelled the build; the runner kills its containers. */
  cancelled: boolean;
  status: Status;
}

/** The JSON body of every non-2xx answer, from the RPC and the REST API alike. */
export interface ErrorBody {
  message: string;
}
