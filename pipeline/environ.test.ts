import { describe, expect, it } from 'vitest';
import {
  buildEnviron,
  failureEnviron,
  linkEnviron,
  repoEnviron,
  stageEnviron,
  stageEnvironment,
  stepEnviron,
  systemEnviron,
  workspaceEnviron,
} from './environ.ts';
import type { Step } from '../core/domain.ts';
import { build, repo, stage, system } from './testdata/fixtures.ts';

describe('systemEnviron', () => {
  it('sets CI and DRONE to true and describes the server', () => {
    expect(systemEnviron(system)).toMatchObject({
      CI: 'true',
      DRONE: 'true',
      DRONE_SYSTEM_PROTO: 'https',
      DRONE_SYSTEM_HOST: 'harrier.example.com',
      DRONE_SYSTEM_HOSTNAME: 'harrier.example.com',
      DRONE_SYSTEM_VERSION: '0.1.0',
    });
  });
});

describe('repoEnviron', () => {
  it('sets Drone repository variables', () => {
    expect(repoEnviron(repo)).toMatchObject({
      DRONE_REPO: 'octocat/hello-world',
      DRONE_REPO_OWNER: 'octocat',
      DRONE_REPO_NAMESPACE: 'octocat',
      DRONE_REPO_NAME: 'hello-world',
      DRONE_REPO_LINK: 'https://github.com/octocat/hello-world',
      DRONE_REPO_BRANCH: 'main',
      DRONE_REPO_PRIVATE: 'false',
      DRONE_REPO_VISIBILITY: 'public',
      DRONE_GIT_HTTP_URL: 'https://github.com/octocat/hello-world.git',
      DRONE_GIT_SSH_URL: 'git@github.com:octocat/hello-world.git',
      DRONE_REMOTE_URL: 'https://github.com/octocat/hello-world.git',
    });
  });

  it('keeps Drone\'s CI_REPO_NAME (the slug) and adds Woodpecker\'s CI_REPO_OWNER', () => {
    expect(repoEnviron(repo)).toMatchObject({ CI_REPO: 'octocat/hello-world', CI_REPO_NAME: 'octocat/hello-world', CI_REPO_OWNER: 'octocat' });
  });
});

describe('buildEnviron', () => {
  it('sets commit and build variables for a push', () => {
    const env = buildEnviron(build);
    expect(env).toMatchObject({
      DRONE_BRANCH: 'main',
      DRONE_SOURCE_BRANCH: 'main',
      DRONE_TARGET_BRANCH: 'main',
      DRONE_COMMIT: build.after,
      DRONE_COMMIT_SHA: build.after,
      DRONE_COMMIT_BEFORE: build.before,
      DRONE_COMMIT_REF: 'refs/heads/main',
      DRONE_COMMIT_LINK: build.link,
      DRONE_COMMIT_MESSAGE: 'Update README\n',
      DRONE_COMMIT_AUTHOR: 'octocat',
      DRONE_COMMIT_AUTHOR_NAME: 'The Octocat',
      DRONE_BUILD_NUMBER: '42',
      DRONE_BUILD_EVENT: 'push',
      DRONE_BUILD_STATUS: 'success',
      DRONE_BUILD_CREATED: '1700000105',
      DRONE_BUILD_STARTED: '1700000110',
      CI_COMMIT_SHA: build.after,
      CI_COMMIT_REF: 'refs/heads/main',
      CI_COMMIT_BRANCH: 'main',
      CI_COMMIT_MESSAGE: 'Update README\n',
      CI_BUILD_NUMBER: '42',
      CI_BUILD_EVENT: 'push',
      CI_BUILD_STATUS: 'success',
      CI_PIPELINE_NUMBER: '42',
    });
    expect(env).not.toHaveProperty('DRONE_TAG');
    expect(env).not.toHaveProperty('DRONE_PULL_REQUEST');
    expect(env).not.toHaveProperty('DRONE_CRON');
  });

  it('names the cron job that started a cron build in DRONE_CRON', () => {
    const env = buildEnviron({ ...build, event: 'cron', cron: 'nightly' });
    expect(env).toMatchObject({ DRONE_CRON: 'nightly', DRONE_BUILD_EVENT: 'cron' });
  });

  it('takes the finish time from the start while the build runs, never from a clock', () => {
    expect(buildEnviron(build).DRONE_BUILD_FINISHED).toBe('1700000110');
    expect(buildEnviron({ ...build, started: 0 }).DRONE_BUILD_STARTED).toBe('1700000105');
  });

  it('sets the pull request number from the ref and its title', () => {
    const env = buildEnviron({ ...build, event: 'pull_request', ref: 'refs/pull/17/head', title: 'Fix it', source: 'fix', target: 'main' });
    expect(env).toMatchObject({
      DRONE_PULL_REQUEST: '17',
      DRONE_PULL_REQUEST_TITLE: 'Fix it',
      DRONE_SOURCE_BRANCH: 'fix',
      DRONE_TARGET_BRANCH: 'main',
      CI_COMMIT_PULL_REQUEST: '17',
    });
  });

  it('sets the tag and its semantic version parts', () => {
    const env = buildEnviron({ ...build, event: 'tag', ref: 'refs/tags/v1.2.3-rc.1+build.5', target: '' });
    expect(env).toMatchObject({
      DRONE_TAG: 'v1.2.3-rc.1+build.5',
      CI_COMMIT_TAG: 'v1.2.3-rc.1+build.5',
      DRONE_SEMVER: '1.2.3-rc.1+build.5',
      DRONE_SEMVER_MAJOR: '1',
      DRONE_SEMVER_MINOR: '2',
      DRONE_SEMVER_PATCH: '3',
      DRONE_SEMVER_PRERELEASE: 'rc.1',
      DRONE_SEMVER_BUILD: 'build.5',
      DRONE_SEMVER_SHORT: '1.2.3',
    });
  });

  it('reports a tag that is not a semantic version in DRONE_SEMVER_ERROR', () => {
    const env = buildEnviron({ ...build, event: 'tag', ref: 'refs/tags/release-one' });
    expect(env.DRONE_SEMVER_ERROR).toContain('release-one');
    expect(env).not.toHaveProperty('DRONE_SEMVER');
  });

  it('sets calendar version parts for a calendar tag', () => {
    expect(buildEnviron({ ...build, event: 'tag', ref: 'refs/tags/2024.03.1-beta' })).toMatchObject({
      DRONE_CALVER: '2024.03.1-beta',
      DRONE_CALVER_SHORT: '2024.03.1',
      DRONE_CALVER_MAJOR_MINOR: '2024.03',
      DRONE_CALVER_MICRO: '1',
      DRONE_CALVER_MODIFIER: 'beta',
    });
  });

  it('reports failure and the failed stages when a stage failed', () => {
    const env = buildEnviron({ ...build, stages: [{ ...stage, name: 'lint', status: 'failure' }, { ...stage, name: 'test', status: 'success' }] });
    expect(env).toMatchObject({ DRONE_BUILD_STATUS: 'failure', CI_BUILD_STATUS: 'failure', DRONE_FAILED_STAGES: 'lint' });
  });
});

describe('stageEnviron', () => {
  it('describes the stage', () => {
    expect(stageEnviron(stage, build)).toMatchObject({
      DRONE_STAGE_KIND: 'pipeline',
      DRONE_STAGE_TYPE: 'docker',
      DRONE_STAGE_NAME: 'default',
      DRONE_STAGE_NUMBER: '1',
      DRONE_STAGE_MACHINE: 'runner-1',
      DRONE_STAGE_OS: 'linux',
      DRONE_STAGE_ARCH: 'amd64',
      DRONE_STAGE_STATUS: 'success',
      DRONE_STAGE_STARTED: '1700000120',
      DRONE_STAGE_DEPENDS_ON: '',
    });
  });

  it('lists failed steps but not ignored failures', () => {
    const step = (name: string, errignore: boolean): Step => ({
      id: 1, step_id: 300, number: 1, name, status: 'failure', error: '', errignore, exit_code: 1,
      started: 0, stopped: 0, version: 1, depends_on: [], image: '', detached: false, schema: '',
    });
    expect(stageEnviron({ ...stage, steps: [step('a', true), step('b', false)] }, build)).toMatchObject({ DRONE_STAGE_STATUS: 'failure', DRONE_FAILED_STEPS: 'b' });
  });
});

describe('linkEnviron', () => {
  it('links to the build page on this server', () => {
    expect(linkEnviron(repo, build, system).DRONE_BUILD_LINK).toBe('https://harrier.example.com/octocat/hello-world/42');
  });

  it('builds the link from proto and host when the server link is unknown', () => {
    expect(linkEnviron(repo, build, { ...system, link: '' }).DRONE_BUILD_LINK).toBe('https://harrier.example.com/octocat/hello-world/42');
  });
});

describe('stepEnviron and workspaceEnviron', () => {
  it('names the step and its recorded number', () => {
    expect(stepEnviron('test', 3)).toEqual({ DRONE_STEP_NAME: 'test', DRONE_STEP_NUMBER: '3', CI_STEP_NAME: 'test', CI_STEP_NUMBER: '3' });
  });

  it('sets the workspace variables for a workspace mounted at its full path', () => {
    expect(workspaceEnviron('/go/src/app')).toMatchObject({ DRONE_WORKSPACE: '/go/src/app', DRONE_WORKSPACE_BASE: '/go/src/app', DRONE_WORKSPACE_PATH: '', CI_WORKSPACE: '/go/src/app' });
  });
});

describe('failureEnviron', () => {
  it('gives what changes for steps that run after a failure', () => {
    expect(failureEnviron(['test', 'lint'])).toEqual({
      DRONE_BUILD_STATUS: 'failure',
      DRONE_STAGE_STATUS: 'failure',
      CI_BUILD_STATUS: 'failure',
      DRONE_FAILED_STEPS: 'test,lint',
    });
  });
});

describe('stageEnvironment', () => {
  it('combines system, repository, build, stage and link variables, all strings', () => {
    const env = stageEnvironment({ repo, build, stage, system });
    expect(env).toMatchObject({ DRONE: 'true', DRONE_REPO: 'octocat/hello-world', DRONE_BUILD_NUMBER: '42', DRONE_STAGE_NAME: 'default' });
    expect(Object.values(env).every((v) => typeof v === 'string')).toBe(true);
  });
});
