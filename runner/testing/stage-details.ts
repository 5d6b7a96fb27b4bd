// StageDetails as the server sends them, for executor and runner tests.
import { randomInt } from 'node:crypto';
import type { Build, Repo, Stage, Step } from '../../core/domain.ts';
import type { StageDetails } from '../../core/protocol.ts';

// Containers carry their stage's id as a label: ids of their own keep two test runs on one
// Docker engine from finding each other's containers.
let nextId = randomInt(1_000, 1_000_000_000);

export interface DetailsInput {
  config: string;
  /** The pipeline this stage runs. */
  name?: string;
  /** Step names in the server's numbering: clone first unless disabled, then services, then steps. */
  steps: string[];
  remote?: string;
  after?: string;
  ref?: string;
  timeoutMinutes?: number;
  secrets?: { name: string; value: string }[];
  changedFiles?: string[] | null;
  event?: Build['event'];
}

export function stageDetails(input: DetailsInput): StageDetails {
  const repoId = nextId++;
  const buildId = nextId++;
  const stageId = nextId++;
  const repo: Repo = {
    id: repoId, uid: String(repoId), user_id: 1, namespace: 'octo', name: 'hello', slug: 'octo/hello', scm: 'github',
    git_http_url: input.remote ?? 'file:///nonexistent', git_ssh_url: '', link: '', default_branch: 'main', private: false,
    visibility: 'public', active: true, config_path: '.drone.yml', trusted: false, protected: false, ignore_forks: false,
    ignore_pull_requests: false, timeout: input.timeoutMinutes ?? 60, counter: 1, synced: 0, created: 0, updated: 0, version: 1,
  };
  const build: Build = {
    id: buildId, repo_id: repoId, trigger: '@hook', number: 1, parent: 0, status: 'running', error: '', event: input.event ?? 'push', action: '',
    link: '', timestamp: 0, title: '', message: 'test', before: '', after: input.after ?? '0'.repeat(40), ref: input.ref ?? 'refs/heads/main',
    source_repo: '', source: 'main', target: 'main', author_login: 'octocat', author_name: 'Octo Cat', author_email: 'octo@example.com',
    author_avatar: '', sender: 'octocat', params: {}, cron: '', deploy_to: '', started: 0, finished: 0, created: 0, updated: 0, version: 1, config_source: 'file',
  };
  const steps: Step[] = input.steps.map((name, i) => ({
    id: nextId++, step_id: stageId, number: i + 1, name, status: 'pending', error: '', errignore: false, exit_code: 0,
    started: 0, stopped: 0, version: 1, depends_on: [], image: '', detached: false, schema: '',
  }));
  const stage: Stage = {
    id: stageId, attempt: 1, repo_id: repoId, build_id: buildId, number: 1, name: input.name ?? 'default', kind: 'pipeline', type: 'docker',
    status: 'pending', error: '', errignore: false, exit_code: 0, machine: '', os: 'linux', arch: 'amd64', variant: '', kernel: '',
    limit: 0, started: 0, stopped: 0, created: 0, updated: 0, version: 1, on_success: true, on_failure: false, depends_on: [],
    labels: {}, steps,
  };
  return {
    repo, build, stage, config: input.config, netrc: null, secrets: input.secrets ?? [], changed_files: input.changedFiles ?? null,
    system: { link: 'http://harrier.test', host: 'harrier.test', proto: 'http', version: '0.1.0' },
  };
}

/** The server's step of that name. */
export function stepNamed(details: StageDetails, name: string): Step {
  const step = details.stage.steps?.find((s) => s.name === name);
  if (!step) throw new Error(`no step "${name}"`);
  return step;
}
