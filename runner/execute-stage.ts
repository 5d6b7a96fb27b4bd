// Runs one accepted stage from start to end: compile it, clone on the host, set up the
// engine, start services, run the steps in dependency order, report every state change
// and log line to the server, and always tear everything down again.
// A stage the runner no longer holds (the server said so in a ping's `lost`, or answered
// 409 to a call about it) is stopped the same way but reported no further: another
// runner, or the server itself, owns its state now.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { LogLine, Status, Step } from '../core/domain.ts';
import type { Logger } from '../core/log.ts';
import type { StageDetails, StepUpdate } from '../core/protocol.ts';
import type { Pipeline, Plan, PlanStep } from '../pipeline/types.ts';
import { StepTimeoutError } from './backend/backend.ts';
import { CloneError, cloneRepo } from './clone.ts';
import { LABEL_MANAGED, LABEL_RUNNER } from './labels.ts';
import { LogWriter } from './log-writer.ts';
import { MIN_SECRET_LENGTH, SecretMasker, secretLength } from './secret-mask.ts';
import { isConflict } from './rpc-client.ts';
import type { ExecuteStageOptions, StageOutcome } from './stage-execution.ts';
import { stepDependencies } from './step-graph.ts';
import { privilegedImagesFor, runnerEnviron } from './step-environ.ts';
import { registryCredentials, withSecrets } from './step-secrets.ts';
import { watchForCancel } from './watch-build.ts';
import { ensurePrivateDir } from './workspace-dir.ts';

export type { CompiledStage, CompileRequest, ExecuteStageOptions, StageCompiler, StageOutcome, StageRpc } from './stage-execution.ts';

const DEFAULT_TIMEOUT_MINUTES = 60;
const KILLED_EXIT_CODE = 137;

/** Why the stage was stopped from outside; the stage ends as killed with this error. */
class StageKilled extends Error {}

const unix = () => Math.floor(Date.now() / 1000);

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `log_cut: true` for a step whose log was cut, nothing otherwise. */
function logCut(writer: LogWriter): Pick<StepUpdate, 'log_cut'> {
  return writer.cut ? { log_cut: true } : {};
}

function describeReason(reason: unknown): string {
  return reason === undefined ? 'the runner no longer holds the stage' : messageOf(reason);
}

export async function executeStage(details: StageDetails, options: ExecuteStageOptions): Promise<StageOutcome> {
  return new StageRun(details, options).execute();
}

interface Problem {
  status: Status;
  error: string;
  exitCode: number;
}

class StageRun {
  private readonly kill = new AbortController();
  private readonly stopWatching = new AbortController();
  private readonly serverSteps: Step[];
  /** Last status reported per server step id. */
  private readonly reported = new Map<number, Status>();
  private readonly reportChains = new Map<number, Promise<void>>();
  /** Detached steps and services: running until the stage ends. */
  private readonly background: { serverStep: Step | undefined; writer: LogWriter; started: number }[] = [];
  private readonly masker: SecretMasker;
  /** What the runner adds below every step's own environment (step-environ.ts). */
  private readonly baseEnv: Record<string, string>;
  private firstProblem: Problem | undefined;
  private exitedEarly = false;
  private finished = false;
  private stepStarted = false;
  /** Why the runner no longer holds the stage; once set, nothing more is sent to the server. */
  private lostReason: string | undefined;
  private readonly logger: Logger | undefined;
  /** The report that the stage runs; every step report goes after it. */
  private stageRunning: Promise<void> = Promise.resolve();

  constructor(
    private readonly details: StageDetails,
    private readonly options: ExecuteStageOptions,
  ) {
    this.serverSteps = details.stage.steps ?? [];
    this.logger = options.logger?.child({ stage: details.stage.id, build: details.build.id, repo: details.repo.slug });
    this.masker = this.makeMasker();
    this.baseEnv = runnerEnviron(details, options.settings);
  }

  /**
   * One masker for all the stage's logs: its secrets and the clone credentials (GitHub's
   * token is the netrc login, Bitbucket's the password). A stored secret too short to mask
   * is left visible, with a warning: masking it would hide ordinary text everywhere.
   */
  private makeMasker(): SecretMasker {
    const { secrets, netrc } = this.details;
    for (const secret of secrets) {
      const length = secretLength(secret.value);
      if (length > 0 && length < MIN_SECRET_LENGTH) {
        this.logger?.warn(
          { event: 'secret_too_short', secret: secret.name, min: MIN_SECRET_LENGTH },
          `secret ${secret.name} is shorter than ${MIN_SECRET_LENGTH} characters, so it is not masked in logs; give it a longer value`,
        );
      }
    }
    return new SecretMasker([...secrets.map((s) => s.value), ...(netrc ? [netrc.login, netrc.password] : [])]);
  }

  async execute(): Promise<StageOutcome> {
    const { rpc, backend, signal, lost } = this.options;
    const stage = this.details.stage;
    const started = unix();
    const onLost = () => this.markLost(describeReason(lost?.reason));
    lost?.addEventListener('abort', onLost, { once: true });
    if (lost?.aborted) onLost();
    // Sent while the stage is set up: the steps' reports wait for it, nothing else does.
    this.stageRunning = this.unlessLost('report the stage running', () => rpc.updateStage(stage.id, { status: 'running', started }));

    const minutes = this.details.repo.timeout > 0 ? this.details.repo.timeout : DEFAULT_TIMEOUT_MINUTES;
    const timer = setTimeout(() => this.stop(new StageKilled(`stage timed out after ${minutes} minutes`)), minutes * 60_000);
    const onShutdown = () => this.stop(new StageKilled(`runner ${this.options.runnerName} shut down before the stage finished`));
    signal?.addEventListener('abort', onShutdown, { once: true });
    if (signal?.aborted) onShutdown();
    const watching = watchForCancel(rpc, this.details.build.id, this.stopWatching.signal, () => this.stop(new StageKilled('')), this.logger);

    let plan: Plan | undefined;
    let workspace: string | undefined;
    let outcome: StageOutcome;
    try {
      outcome = await this.run(
        (p) => (plan = p),
        (w) => (workspace = w),
      );
    } catch (err) {
      this.logger?.error({ event: 'stage_crashed', err }, 'stage failed unexpectedly');
      outcome = { status: 'error', error: messageOf(err) };
    } finally {
      this.finished = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onShutdown);
      this.stopWatching.abort();
      if (plan) {
        const toStop = plan;
        // The network goes after the stage is reported done: nothing runs in it any more.
        await this.safely('tear down the stage', () => (backend.removeContainers ? backend.removeContainers(toStop) : backend.destroy(toStop)));
      }
      if (workspace) {
        const toRemove = workspace;
        await this.safely('remove the workspace', () => fs.rm(toRemove, { recursive: true, force: true }));
      }
      await watching;
    }

    // Detached steps and services ran until the stage ended; their logs are complete now.
    const killed = outcome.status === 'killed';
    for (const { serverStep, writer, started: stepStarted } of this.background) {
      await writer.close();
      const times = { started: stepStarted, stopped: unix(), ...logCut(writer) };
      this.report(serverStep, killed ? { status: 'killed', exit_code: KILLED_EXIT_CODE, ...times } : { status: 'success', exit_code: 0, ...times });
    }
    for (const step of this.serverSteps) {
      if (!this.reported.has(step.id)) this.report(step, { status: 'skipped' });
    }
    await Promise.all([this.stageRunning, ...this.reportChains.values()]);

    const exitCode = this.firstProblem?.exitCode ?? 0;
    await this.unlessLost('report the stage result', () =>
      rpc.updateStage(stage.id, { status: outcome.status, error: outcome.error || undefined, exit_code: exitCode, started, stopped: unix() }),
    );
    lost?.removeEventListener('abort', onLost);
    if (this.lostReason !== undefined) {
      this.logger?.info({ event: 'stage_done', lost: true, reason: this.lostReason }, 'stage stopped and its containers and workspace removed; the runner no longer holds it, so nothing was reported');
    } else {
      this.logger?.info({ event: 'stage_done', status: outcome.status, error: outcome.error || undefined }, 'stage done');
    }
    if (plan && backend.removeContainers) {
      const toDestroy = plan;
      await this.safely('tear down the stage', () => backend.destroy(toDestroy));
    }
    return this.lostReason !== undefined ? { status: outcome.status, error: this.lostReason, lost: true } : outcome;
  }

  private async run(setPlan: (plan: Plan) => void, setWorkspace: (dir: string) => void): Promise<StageOutcome> {
    const { details, options } = this;
    const stage = details.stage;
    // Private to the runner's user: no one else on the host reaches the stage's files.
    await ensurePrivateDir(options.workspaceDir);
    const workspace = await fs.mkdtemp(path.join(options.workspaceDir, `stage-${stage.id}-`));
    setWorkspace(workspace);
    // Inside the private folder, so only containers see this mode: steps whose image runs as
    // another user may read the source, as on a Drone volume, and not write it.
    await fs.chmod(workspace, 0o755);

    const compiled = options.compile(details, {
      workspaceHostPath: workspace,
      idPrefix: `harrier-${stage.id}-${crypto.randomBytes(4).toString('hex')}`,
      labels: { [LABEL_MANAGED]: 'true', [LABEL_RUNNER]: options.runnerName, 'io.harrier.stage': String(stage.id) },
      privilegedImages: privilegedImagesFor(details, options.settings),
    });
    if (!compiled.ok) return { status: 'error', error: compiled.error };
    const { pipeline, plan } = compiled;
    setPlan(plan);

    const cloneOnHost = !pipeline.clone.disable;
    // A plan may carry a clone step for other backends; this runner clones on the host instead.
    const planned = plan.steps.filter((s) => !(cloneOnHost && s.name === 'clone' && !s.service));
    const plannedServerIds = new Set(planned.map((s) => this.serverStepFor(s)?.id));
    const cloneStep = cloneOnHost ? this.serverSteps.find((s) => s.name === 'clone') : undefined;
    for (const step of this.serverSteps) {
      if (!plannedServerIds.has(step.id) && step !== cloneStep) this.report(step, { status: 'skipped' });
    }

    // Cloning and creating the network do not depend on each other; the first containers
    // are made in the network while the clone goes on.
    // A registry's first login is used: the pipeline's image_pull_secrets before the runner's own.
    const credentials = [...registryCredentials(plan, this.details.secrets, this.logger), ...(options.settings?.registryCredentials ?? [])];
    const setup = options.backend.setup(plan, this.kill.signal, { registryCredentials: credentials });
    const prepared = setup.then(
      () => this.prepareFirst(plan, planned),
      () => {},
    );
    const [setupDone] = await Promise.allSettled([setup, cloneOnHost ? this.cloneInto(workspace, pipeline, cloneStep) : Promise.resolve(), prepared]);
    if (this.kill.signal.aborted) return this.verdict();
    if (setupDone.status === 'rejected') return { status: 'error', error: `could not set up the stage: ${messageOf(setupDone.reason)}` };

    await Promise.all(planned.filter((s) => s.service).map((s) => this.runStep(plan, s)));
    await this.runGraph(plan, planned.filter((s) => !s.service));
    return this.verdict();
  }

  /** Has the backend make the containers of the services and of the steps that start first. */
  private prepareFirst(plan: Plan, planned: PlanStep[]): void {
    const prepare = this.options.backend.prepare;
    if (!prepare) return;
    const deps = stepDependencies(planned.filter((s) => !s.service));
    for (const step of planned) {
      if (this.kill.signal.aborted) return;
      if (!step.service && (deps.get(step.name)!.length > 0 || !this.shouldRun(step))) continue;
      let withEnv: PlanStep;
      try {
        withEnv = withSecrets(this.details, step, this.baseEnv);
      } catch {
        continue; // runStep reports the missing secret
      }
      prepare.call(this.options.backend, plan, withEnv, this.kill.signal);
    }
  }

  private verdict(): StageOutcome {
    const reason = this.kill.signal.reason;
    if (this.kill.signal.aborted) return { status: 'killed', error: reason instanceof StageKilled ? reason.message : '' };
    if (this.firstProblem) return { status: this.firstProblem.status === 'error' ? 'error' : 'failure', error: this.firstProblem.error };
    return { status: 'success', error: '' };
  }

  /** Starts each step once its dependencies are done, as many at a time as the graph allows. */
  private async runGraph(plan: Plan, steps: PlanStep[]): Promise<void> {
    const deps = stepDependencies(steps);
    const done = new Set<string>();
    let waiting = [...steps];
    const running = new Set<Promise<void>>();
    for (;;) {
      let progressed = true;
      while (progressed) {
        progressed = false;
        for (const step of waiting) {
          if (!deps.get(step.name)!.every((d) => done.has(d))) continue;
          waiting = waiting.filter((s) => s !== step);
          progressed = true;
          if (!this.shouldRun(step)) {
            this.report(this.serverStepFor(step), { status: 'skipped' });
            done.add(step.name);
            continue;
          }
          const run: Promise<void> = this.runStep(plan, step).finally(() => {
            done.add(step.name);
            running.delete(run);
          });
          running.add(run);
        }
      }
      if (running.size === 0) break;
      await Promise.race(running);
    }
    // Only a dependency cycle leaves steps waiting; the linter rejects those, so this is a guard.
    for (const step of waiting) this.report(this.serverStepFor(step), { status: 'skipped', error: 'its dependencies never finished' });
  }

  private shouldRun(step: PlanStep): boolean {
    if (this.kill.signal.aborted || this.exitedEarly) return false;
    if (this.firstProblem) return step.runOn.includes('failure');
    return step.runOn.length === 0 || step.runOn.includes('success');
  }

  private async cloneInto(workspace: string, pipeline: Pipeline, serverStep: Step | undefined): Promise<void> {
    const { details } = this;
    const started = unix();
    const startedMs = Date.now();
    // git starts while the server hears of it; log lines wait for that report.
    const reportedRunning = this.report(serverStep, { status: 'running', started });
    const writer = this.writerFor(serverStep, startedMs, reportedRunning);
    try {
      await (this.options.clone ?? cloneRepo)({
        dir: workspace,
        remote: details.clone_url || details.repo.git_http_url,
        build: details.build,
        depth: pipeline.clone.depth,
        retries: pipeline.clone.retries,
        netrc: details.netrc,
        output: (chunk) => void writer.write(chunk),
        signal: this.kill.signal,
      });
      await writer.close();
      this.report(serverStep, { status: 'success', exit_code: 0, started, stopped: unix(), ...logCut(writer) });
    } catch (err) {
      if (!this.kill.signal.aborted) writer.line(messageOf(err));
      await writer.close();
      if (this.kill.signal.aborted) {
        this.report(serverStep, { status: 'killed', exit_code: KILLED_EXIT_CODE, started, stopped: unix(), ...logCut(writer) });
        return;
      }
      const exitCode = err instanceof CloneError ? err.exitCode : 1;
      // The error went through the masker in the log; the step's error field is shown too.
      const error = this.masker.mask(messageOf(err));
      this.problem({ status: 'failure', error: `clone failed: ${error}`, exitCode });
      this.report(serverStep, { status: 'failure', error, exit_code: exitCode, started, stopped: unix(), ...logCut(writer) });
    }
  }

  /** Runs a step, or starts a detached step or service. Never rejects: every outcome becomes a step status. */
  private async runStep(plan: Plan, step: PlanStep): Promise<void> {
    const serverStep = this.serverStepFor(step);
    const started = unix();
    const startedMs = Date.now();
    // The container starts while the server hears of it; log lines wait for that report.
    const reportedRunning = this.report(serverStep, { status: 'running', started });
    const writer = this.writerFor(serverStep, startedMs, reportedRunning);
    const finish = async (update: Omit<StepUpdate, 'started' | 'stopped'>) => {
      await writer.close();
      if (update.status === 'failure' || update.status === 'error') {
        if (!step.errIgnore) this.problem({ status: update.status, error: `step "${step.name}": ${update.error ?? `exit code ${update.exit_code}`}`, exitCode: update.exit_code ?? 1 });
      }
      this.report(serverStep, { ...update, started, stopped: unix(), ...logCut(writer) });
    };
    try {
      const result = await this.options.backend.run(
        plan,
        withSecrets(this.details, step, this.baseEnv),
        (chunk) => writer.write(chunk),
        this.kill.signal,
        (reason) => writer.cutHere(reason),
      );
      if (step.detach || step.service) {
        this.background.push({ serverStep, writer, started });
        return;
      }
      if (result.oomKilled) return await finish({ status: 'failure', exit_code: result.exitCode, error: 'the container ran out of memory and was killed; the runner limits each step\'s memory (HARRIER_RUNNER_MEMORY_LIMIT)' });
      if (result.exitCode === 0) return await finish({ status: 'success', exit_code: 0 });
      if (result.exitCode === 78) {
        // Drone's convention: 78 ends the pipeline early, as a success.
        this.exitedEarly = true;
        return await finish({ status: 'success', exit_code: 78 });
      }
      return await finish({ status: 'failure', exit_code: result.exitCode });
    } catch (err) {
      if (this.kill.signal.aborted) return await finish({ status: 'killed', exit_code: KILLED_EXIT_CODE });
      if (err instanceof StepTimeoutError) return await finish({ status: 'failure', exit_code: KILLED_EXIT_CODE, error: err.message });
      writer.line(messageOf(err));
      return await finish({ status: 'error', error: messageOf(err) });
    }
  }

  private problem(problem: Problem): void {
    this.firstProblem ??= problem;
  }

  private serverStepFor(step: PlanStep): Step | undefined {
    return this.serverSteps.find((s) => s.number === step.number && s.name === step.name) ?? this.serverSteps.find((s) => s.name === step.name);
  }

  private writerFor(serverStep: Step | undefined, startedAt: number, after: Promise<void> = Promise.resolve()): LogWriter {
    let warned = false;
    return new LogWriter({
      send: serverStep ? (lines) => after.then(() => this.sendLogs(serverStep.id, lines)) : async () => {},
      masker: this.masker,
      maxLogBytes: this.options.logLimitBytes,
      startedAt,
      onError: (err) => {
        if (warned) return;
        warned = true;
        this.logger?.warn({ event: 'log_send_failed', step: serverStep?.name, err: messageOf(err) }, 'could not send log lines; retrying');
      },
    });
  }

  /**
   * Sends a step update after the step's earlier ones (updates of different steps do not
   * wait for each other). The stage's final update waits for all of them.
   */
  private report(serverStep: Step | undefined, update: StepUpdate): Promise<void> {
    if (!serverStep) return Promise.resolve();
    this.reported.set(serverStep.id, update.status);
    if (update.status === 'running' && !this.stepStarted && this.lostReason === undefined) {
      this.stepStarted = true;
      this.options.onStepStarted?.();
    }
    const previous = this.reportChains.get(serverStep.id) ?? this.stageRunning;
    const sent = previous.then(() => this.unlessLost(`report step ${serverStep.name} ${update.status}`, () => this.options.rpc.updateStep(serverStep.id, update)));
    this.reportChains.set(serverStep.id, sent);
    return sent;
  }

  /** Lines of a stage the runner lost are dropped: the server would refuse them, and retrying would hold the teardown. */
  private async sendLogs(stepId: number, lines: LogLine[]): Promise<void> {
    if (this.lostReason !== undefined) return;
    try {
      await this.options.rpc.sendLogs(stepId, lines);
    } catch (err) {
      if (!isConflict(err)) throw err;
      this.markLost(`the server refused its log lines: ${messageOf(err)}`);
    }
  }

  /** Stops the stage and silences it: from here on nothing is sent to the server about it. */
  private markLost(reason: string): void {
    if (this.lostReason !== undefined) return;
    this.lostReason = reason;
    this.logger?.warn({ event: 'stage_lost', reason }, 'the runner no longer holds this stage; stopping it without reporting more');
    if (!this.kill.signal.aborted) this.kill.abort(new StageKilled(reason));
  }

  /** A call to the server about this stage: skipped once the stage is lost, and a 409 answer means it just was. */
  private async unlessLost(what: string, fn: () => Promise<unknown>): Promise<void> {
    if (this.lostReason !== undefined) return;
    await this.safely(what, async () => {
      try {
        await fn();
      } catch (err) {
        if (!isConflict(err)) throw err;
        this.markLost(`the server refused to ${what}: ${messageOf(err)}`);
      }
    });
  }

  private stop(reason: StageKilled): void {
    if (this.finished || this.kill.signal.aborted) return;
    this.logger?.info({ event: 'stage_stopping', reason: reason.message }, 'stopping the stage');
    this.kill.abort(reason);
  }

  /** Runs a call whose failure must not end the stage (a lost status update, a teardown hiccup); logs it instead. */
  private async safely(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.logger?.warn({ event: 'runner_call_failed', what, err: messageOf(err) }, `could not ${what}`);
    }
  }
}
