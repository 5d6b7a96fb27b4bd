// The environment every step sees: Drone's DRONE_* variables, and the CI_*
// variables Drone sets for tools written for Drone 0.8 / Woodpecker. Where Drone
// sets a CI_* variable its value is kept even if Woodpecker's differs (CI_REPO_NAME
// is the full slug, as in Drone), so Drone pipelines behave unchanged; the CI_*
// variables Drone does not set follow Woodpecker's meaning.

import type { Build, Repo, Stage, Status } from '../core/domain.ts';
import type { SystemInfo } from '../core/protocol.ts';
import { calverEnviron, semverEnviron } from './version-tags.ts';

export type Env = Record<string, string>;

export interface EnvironInput {
  repo: Repo;
  build: Build;
  stage: Stage;
  system: SystemInfo;
}

const FAILED: Status[] = ['failure', 'error', 'killed'];

export function systemEnviron(system: SystemInfo): Env {
  return {
    CI: 'true',
    DRONE: 'true',
    DRONE_SYSTEM_PROTO: system.proto,
    DRONE_SYSTEM_HOST: system.host,
    DRONE_SYSTEM_HOSTNAME: system.host,
    DRONE_SYSTEM_VERSION: system.version,
    CI_SYSTEM_NAME: 'harrier',
    CI_SYSTEM_URL: system.link,
    CI_SYSTEM_HOST: system.host,
    CI_SYSTEM_VERSION: system.version,
  };
}

export function repoEnviron(repo: Repo): Env {
  return {
    DRONE_REPO: repo.slug,
    // Drone's value for a git repository; the provider is not a version control system.
    DRONE_REPO_SCM: 'git',
    DRONE_REPO_OWNER: repo.namespace,
    DRONE_REPO_NAMESPACE: repo.namespace,
    DRONE_REPO_NAME: repo.name,
    DRONE_REPO_LINK: repo.link,
    DRONE_REPO_BRANCH: repo.default_branch,
    DRONE_REMOTE_URL: repo.git_http_url,
    DRONE_GIT_HTTP_URL: repo.git_http_url,
    DRONE_GIT_SSH_URL: repo.git_ssh_url,
    DRONE_REPO_VISIBILITY: repo.visibility,
    DRONE_REPO_PRIVATE: String(repo.private),
    CI_REPO: repo.slug,
    CI_REPO_NAME: repo.slug,
    CI_REPO_OWNER: repo.namespace,
    CI_REPO_LINK: repo.link,
    CI_REPO_URL: repo.link,
    CI_REPO_REMOTE: repo.git_http_url,
    CI_REMOTE_URL: repo.git_http_url,
    CI_REPO_CLONE_URL: repo.git_http_url,
    CI_REPO_DEFAULT_BRANCH: repo.default_branch,
    CI_REPO_PRIVATE: String(repo.private),
  };
}

/** Failing when the build or any of its stages failed; the runner refreshes this as steps fail. */
export function isBuildFailing(build: Build): boolean {
  return FAILED.includes(build.status) || (build.stages ?? []).some((s) => FAILED.includes(s.status));
}

export function buildEnviron(build: Build): Env {
  const status = isBuildFailing(build) ? 'failure' : 'success';
  // Pure functions cannot read the clock: a time not yet known falls back to one that is.
  const started = build.started || build.created;
  const finished = build.finished || started;
  const env: Env = {
    DRONE_BRANCH: build.target,
    DRONE_SOURCE_BRANCH: build.source,
    DRONE_TARGET_BRANCH: build.target,
    DRONE_COMMIT: build.after,
    DRONE_COMMIT_SHA: build.after,
    DRONE_COMMIT_BEFORE: build.before,
    DRONE_COMMIT_AFTER: build.after,
    DRONE_COMMIT_REF: build.ref,
    DRONE_COMMIT_BRANCH: build.target,
    DRONE_COMMIT_LINK: build.link,
    DRONE_COMMIT_MESSAGE: build.message,
    DRONE_COMMIT_AUTHOR: build.author_login,
    DRONE_COMMIT_AUTHOR_NAME: build.author_name,
    DRONE_COMMIT_AUTHOR_EMAIL: build.author_email,
    DRONE_COMMIT_AUTHOR_AVATAR: build.author_avatar,
    DRONE_BUILD_NUMBER: String(build.number),
    DRONE_BUILD_PARENT: String(build.parent),
    DRONE_BUILD_EVENT: build.event,
    DRONE_BUILD_ACTION: build.action,
    DRONE_BUILD_STATUS: status,
    DRONE_BUILD_DEBUG: 'false',
    DRONE_BUILD_CREATED: String(build.created),
    DRONE_BUILD_STARTED: String(started),
    DRONE_BUILD_FINISHED: String(finished),
    DRONE_BUILD_TRIGGER: build.trigger,
    DRONE_DEPLOY_TO: build.deploy_to,
    ...legacyBuildEnviron(build, status, started, finished),
    ...refEnviron(build),
  };
  if (status === 'failure') {
    env.DRONE_FAILED_STAGES = (build.stages ?? []).filter((s) => FAILED.includes(s.status)).map((s) => s.name).join(',');
  }
  return env;
}

/** Drone's 0.8-era names, and Woodpecker's where Drone has none. */
function legacyBuildEnviron(build: Build, status: string, started: number, finished: number): Env {
  return {
    CI_BUILD_NUMBER: String(build.number),
    CI_PARENT_BUILD_NUMBER: String(build.parent),
    CI_BUILD_CREATED: String(build.created),
    CI_BUILD_STARTED: String(started),
    CI_BUILD_FINISHED: String(finished),
    // Drone copies the raw build status ("running" while steps run); success/failure, as in 0.8, is what scripts test for.
    CI_BUILD_STATUS: status,
    CI_BUILD_EVENT: build.event,
    CI_BUILD_LINK: build.link,
    CI_BUILD_TARGET: build.deploy_to,
    CI_PIPELINE_NUMBER: String(build.number),
    CI_PIPELINE_PARENT: String(build.parent),
    CI_PIPELINE_EVENT: build.event,
    CI_PIPELINE_CREATED: String(build.created),
    CI_PIPELINE_STARTED: String(started),
    CI_PIPELINE_DEPLOY_TARGET: build.deploy_to,
    CI_COMMIT_SHA: build.after,
    CI_COMMIT_REF: build.ref,
    CI_COMMIT_BRANCH: build.target,
    CI_COMMIT_SOURCE_BRANCH: build.source,
    CI_COMMIT_TARGET_BRANCH: build.target,
    CI_COMMIT_MESSAGE: build.message,
    CI_COMMIT_URL: build.link,
    CI_COMMIT_AUTHOR: build.author_login,
    CI_COMMIT_AUTHOR_NAME: build.author_name,
    CI_COMMIT_AUTHOR_EMAIL: build.author_email,
    CI_COMMIT_AUTHOR_AVATAR: build.author_avatar,
  };
}

/** Pull request number and title, tag name and version parts, from the build's ref. */
function refEnviron(build: Build): Env {
  const env: Env = {};
  if (build.event === 'pull_request') {
    const number = /\d+/.exec(build.ref)?.[0] ?? '';
    env.DRONE_PULL_REQUEST = number;
    env.DRONE_PULL_REQUEST_TITLE = build.title;
    env.CI_COMMIT_PULL_REQUEST = number;
  }
  // The cron job that started the build (Drone sets it only then).
  if (build.cron) env.DRONE_CRON = build.cron;
  if (build.ref.startsWith('refs/tags/')) {
    const tag = build.ref.slice('refs/tags/'.length);
    env.DRONE_TAG = tag;
    env.CI_COMMIT_TAG = tag;
    Object.assign(env, semverEnviron(tag), calverEnviron(tag));
  }
  return env;
}

export function stageEnviron(stage: Stage, build: Build): Env {
  const failed = (stage.steps ?? []).filter((s) => FAILED.includes(s.status) && !s.errignore).map((s) => s.name);
  const failing = FAILED.includes(stage.status) || failed.length > 0;
  const started = stage.started || build.started || build.created;
  const env: Env = {
    DRONE_STAGE_KIND: stage.kind,
    DRONE_STAGE_TYPE: stage.type,
    DRONE_STAGE_NAME: stage.name,
    DRONE_STAGE_NUMBER: String(stage.number),
    DRONE_STAGE_MACHINE: stage.machine,
    DRONE_STAGE_OS: stage.os,
    DRONE_STAGE_ARCH: stage.arch,
    DRONE_STAGE_VARIANT: stage.variant,
    DRONE_STAGE_VERSION: String(stage.version),
    DRONE_STAGE_STATUS: failing ? 'failure' : 'success',
    DRONE_STAGE_STARTED: String(started),
    DRONE_STAGE_FINISHED: String(stage.stopped || started),
    DRONE_STAGE_DEPENDS_ON: stage.depends_on.join(','),
    DRONE_CARD_PATH: '/dev/stdout',
    CI_WORKFLOW_NAME: stage.name,
    CI_WORKFLOW_NUMBER: String(stage.number),
  };
  if (failing) env.DRONE_FAILED_STEPS = failed.join(',');
  return env;
}

/** DRONE_BUILD_LINK: the build's page on this server. */
export function linkEnviron(repo: Repo, build: Build, system: SystemInfo): Env {
  const base = (system.link || `${system.proto}://${system.host}`).replace(/\/+$/, '');
  const link = `${base}/${repo.slug}/${build.number}`;
  return { DRONE_BUILD_LINK: link, CI_PIPELINE_URL: link };
}

/** Per step: its name and the number the server recorded for it. */
export function stepEnviron(name: string, number: number): Env {
  return {
    DRONE_STEP_NAME: name,
    DRONE_STEP_NUMBER: String(number),
    CI_STEP_NAME: name,
    CI_STEP_NUMBER: String(number),
  };
}

/**
 * The workspace is mounted at its full path (as Drone does when the source comes
 * from the host), so the base is the full path and the relative path is empty.
 */
export function workspaceEnviron(path: string): Env {
  return {
    DRONE_WORKSPACE: path,
    DRONE_WORKSPACE_BASE: path,
    DRONE_WORKSPACE_PATH: '',
    CI_WORKSPACE: path,
    CI_WORKSPACE_BASE: path,
    CI_WORKSPACE_PATH: '',
  };
}

/**
 * What changes for steps that run after a failure (`when: {status: [failure]}`):
 * the runner lays this over a step's env once earlier steps have failed.
 */
export function failureEnviron(failedSteps: string[]): Env {
  return {
    DRONE_BUILD_STATUS: 'failure',
    DRONE_STAGE_STATUS: 'failure',
    CI_BUILD_STATUS: 'failure',
    DRONE_FAILED_STEPS: failedSteps.join(','),
  };
}

/** Everything a stage's steps share: system, repository, build, stage and link variables. */
export function stageEnvironment({ repo, build, stage, system }: EnvironInput): Env {
  return {
    ...systemEnviron(system),
    ...repoEnviron(repo),
    ...buildEnviron(build),
    ...stageEnviron(stage, build),
    ...linkEnviron(repo, build, system),
  };
}
