// `harrier exec [FILE]`: runs a pipeline file on this machine with no server, through
// the runner's own compiler, stage executor and Docker backend. As Drone's `drone exec`
// does, the working copy is mounted as the workspace instead of cloning the commit.
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Stage, Status, Step } from '../core/domain.ts';
import { isFailed } from '../core/domain.ts';
import type { Logger } from '../core/log.ts';
import type { StageDetails } from '../core/protocol.ts';
import { buildFacts, checkBuildFile, CLONE_STEP_NAME, formatPipelineErrors, pipelineLocation, stageSteps } from '../pipeline/index.ts';
import type { Pipeline } from '../pipeline/types.ts';
import type { Backend } from '../runner/backend/backend.ts';
import { DockerBackend } from '../runner/backend/docker/docker-backend.ts';
import { compileStagePlan } from '../runner/compile-plan.ts';
import { executeStage, type StageCompiler } from '../runner/execute-stage.ts';
import {
  type CommandIO,
  DEFAULT_PIPELINE_FILE,
  EXIT_OK,
  EXIT_PROBLEMS,
  EXIT_SIGNAL,
  EXIT_USAGE,
  parseAssignments,
  processIO,
  readPipelineFile,
  UsageError,
} from './command-io.ts';
import { choosePipelines, type ExecStage, execStages, nextStage } from './exec-pipelines.ts';
import { ExecReporter } from './exec-reporter.ts';
import { type LocalFacts, localFacts, workingCopyRoot } from './local-facts.ts';

export interface ExecCommandOptions {
  /** Run only these pipelines (default: every pipeline whose trigger matches). */
  pipeline?: string[];
  event?: string;
  branch?: string;
  ref?: string;
  deployTo?: string;
  trusted?: boolean;
  /** NAME=VALUE, or NAME to take the value from the environment variable NAME. */
  secret?: string[];
  /** NAME=VALUE build parameters. */
  env?: string[];
}

export interface ExecRuntime {
  io?: CommandIO;
  /** Aborted with 'SIGINT' or 'SIGTERM': stop the running stage, clean up, skip the rest. */
  interrupt?: AbortSignal;
  backend?: Backend;
  /** Labels the containers (io.harrier.runner); default `exec-<host name>`. */
  runnerName?: string;
  /** Where the executor makes its scratch folder; default the system's temp folder. */
  workspaceDir?: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export async function execCommand(file: string | undefined, opts: ExecCommandOptions = {}, runtime: ExecRuntime = {}): Promise<number> {
  const io = runtime.io ?? processIO();
  try {
    return await execPipelines(file ?? DEFAULT_PIPELINE_FILE, opts, { ...runtime, io });
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`harrier exec: ${err.message}\n`);
    return EXIT_USAGE;
  }
}

async function execPipelines(file: string, opts: ExecCommandOptions, runtime: ExecRuntime & { io: CommandIO }): Promise<number> {
  const { io } = runtime;
  const interrupt = runtime.interrupt ?? new AbortController().signal;
  const source = readPipelineFile(file, io.cwd);
  const secrets = Object.entries(parseAssignments(opts.secret ?? [], '--secret', io.env)).map(([name, value]) => ({ name, value }));
  const params = parseAssignments(opts.env ?? [], '--env');
  for (const name of Object.keys(params)) {
    if (!ENV_NAME.test(name)) throw new UsageError(`--env ${name}: not a variable name (letters, digits and _, not starting with a digit)`);
  }

  const root = workingCopyRoot(path.dirname(source.absolute));
  const inRoot = path.relative(root, source.absolute);
  const facts = localFacts({
    root,
    configPath: inRoot.startsWith('..') ? source.display : inRoot,
    event: opts.event ?? 'push',
    branch: opts.branch,
    ref: opts.ref,
    deployTo: opts.deployTo,
    trusted: Boolean(opts.trusted),
    params,
  });

  // Read as the runner's compiler reads it, so pipeline and step names match its own.
  const checked = checkBuildFile(source.text, facts, { trusted: facts.repo.trusted });
  if (!checked.ok) {
    io.stderr(`${formatPipelineErrors(source.display, checked.errors, Infinity)}\n`);
    io.stderr(`harrier exec: ${source.display} is not a valid pipeline file; nothing ran\n`);
    return EXIT_PROBLEMS;
  }
  for (const w of checked.warnings) io.stderr(`${pipelineLocation(source.display, w)} warning: ${w.message}\n`);

  const choice = choosePipelines(checked.pipelines, opts.pipeline ?? [], buildFacts(facts));
  for (const { pipeline, reason } of choice.left) io.stdout(`pipeline ${JSON.stringify(pipeline.name)}: skipped: ${reason}\n`);
  if (choice.run.length === 0) {
    io.stderr('harrier exec: no pipeline to run\n');
    return EXIT_OK;
  }

  const backend = runtime.backend ?? new DockerBackend();
  if (backend instanceof DockerBackend) {
    await backend.docker.ping().catch((err: Error) => {
      throw new UsageError(`cannot reach the Docker engine (${err.message}): start Docker, or point DOCKER_HOST at one`);
    });
  }
  const where = facts.fromGit ? `${root} at ${facts.build.after.slice(0, 8)} (${facts.build.target})` : `${root} (not a git repository)`;
  io.stdout(`harrier exec: ${facts.build.event} on ${where}\n`);

  const stages = execStages(choice.run);
  // Those that ran or were skipped by the rules, in that order; what the interrupt left out is not counted.
  const handled: ExecStage[] = [];
  const finished: Stage[] = [];
  for (let next = nextStage(stages); next; next = nextStage(stages)) {
    const { pipeline } = next.stage;
    const name = JSON.stringify(pipeline.name);
    if (interrupt.aborted) {
      io.stdout(`pipeline ${name}: skipped: interrupted\n`);
      next.stage.status = 'skipped';
      continue;
    }
    if (!next.run) {
      io.stdout(`pipeline ${name}: skipped: ${next.reason}\n`);
      next.stage.status = 'skipped';
      handled.push(next.stage);
      continue;
    }
    next.stage.status = 'running';
    const stage = stageFor(pipeline, checked.pipelines.indexOf(pipeline) + 1, facts.build.created);
    const details: StageDetails = {
      repo: facts.repo,
      // Later pipelines see earlier failures in DRONE_BUILD_STATUS and DRONE_FAILED_STAGES.
      build: { ...facts.build, stages: [...finished] },
      stage,
      config: source.text,
      netrc: null,
      secrets,
      // Unknown, so `when.paths` and `trigger.paths` match, as on the server when the provider does not say.
      changed_files: null,
      system: facts.system,
    };
    const reporter = new ExecReporter({ stage, write: io.stdout, color: io.color, cancel: interrupt });
    const outcome = await executeStage(details, {
      rpc: reporter,
      backend,
      compile: localCompiler(root, new Set(secrets.map((s) => s.name)), io),
      workspaceDir: runtime.workspaceDir ?? path.join(os.tmpdir(), 'harrier-exec'),
      runnerName: runtime.runnerName ?? `exec-${os.hostname()}`,
      logger: terminalLogger(io),
    });
    next.stage.status = outcome.status;
    handled.push(next.stage);
    finished.push({ ...stage, status: outcome.status, steps: undefined });
  }

  const results = handled.map((s) => s.status);
  if (choice.run.length > 1) io.stdout(`${summary(results)}\n`);
  if (interrupt.aborted) return EXIT_SIGNAL[interrupt.reason as keyof typeof EXIT_SIGNAL] ?? EXIT_SIGNAL.SIGINT;
  return results.some(isFailed) ? EXIT_PROBLEMS : EXIT_OK;
}

/** The stage and steps the server would record, without the clone: exec mounts the working copy instead. */
function stageFor(pipeline: Pipeline, number: number, now: number): Stage {
  const id = number;
  const steps: Step[] = stageSteps(pipeline)
    .filter((s) => s.name !== CLONE_STEP_NAME || s.image !== '')
    .map((s) => ({
      id: id * 1000 + s.number, step_id: id, number: s.number, name: s.name, status: 'pending', error: '', errignore: s.errignore,
      exit_code: 0, started: 0, stopped: 0, version: 1, depends_on: s.dependsOn, image: s.image, detached: s.detached, schema: '',
    }));
  return {
    id, repo_id: 1, build_id: 1, number, attempt: 1, name: pipeline.name, kind: pipeline.kind, type: pipeline.type, status: 'pending', error: '',
    errignore: false, exit_code: 0, machine: os.hostname(), os: pipeline.platform.os, arch: pipeline.platform.arch,
    variant: pipeline.platform.variant, kernel: '', limit: pipeline.concurrency.limit, started: 0, stopped: 0, created: now, updated: now,
    version: 1, on_success: true, on_failure: false, depends_on: [...pipeline.dependsOn], labels: { ...pipeline.node }, steps,
  };
}

/**
 * The runner's compiler with the working copy as the workspace and no clone. It names
 * the secrets the stage needs that were not given (their steps fail) and the flag to give them.
 */
function localCompiler(root: string, given: Set<string>, io: CommandIO): StageCompiler {
  return (details, request) => {
    const compiled = compileStagePlan(details, { ...request, workspaceHostPath: root });
    if (!compiled.ok) return compiled;
    for (const step of compiled.plan.steps) {
      for (const [variable, secret] of Object.entries(step.secretEnv)) {
        if (!given.has(secret)) io.stderr(`harrier exec: step ${JSON.stringify(step.name)} takes ${variable} from secret ${secret}, which was not given: pass --secret ${secret}=VALUE\n`);
      }
    }
    return { ok: true, plan: compiled.plan, pipeline: { ...compiled.pipeline, clone: { ...compiled.pipeline.clone, disable: true } } };
  };
}

/** The executor's warnings (a failed teardown, say) as plain lines on stderr. */
function terminalLogger(io: CommandIO): Logger {
  return pino(
    { level: 'warn', base: undefined, timestamp: false },
    {
      write(line: string) {
        const event = JSON.parse(line) as { msg?: string; err?: unknown };
        io.stderr(`harrier exec: warning: ${event.msg ?? 'unknown problem'}${event.err ? `: ${String(event.err)}` : ''}\n`);
      },
    },
  );
}

function summary(results: Status[]): string {
  const counts = new Map<Status, number>();
  for (const status of results) counts.set(status, (counts.get(status) ?? 0) + 1);
  return `pipelines: ${[...counts].map(([status, n]) => `${n} ${status}`).join(', ')}`;
}
