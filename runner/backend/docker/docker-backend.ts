// Runs a Plan on a Docker engine through dockerode. A step costs what `docker run`
// costs: create, attach, start, wait, with nothing polled and nothing slept on.
import os from 'node:os';
import type { Duplex, Readable } from 'node:stream';
import Docker from 'dockerode';
import type { Plan, PlanStep } from '../../../pipeline/types.ts';
import { LABEL_PLAN, labelFilters } from '../../labels.ts';
import {
  type Backend,
  ImageUnavailableError,
  type OutputLost,
  type SetupOptions,
  type StepLimits,
  type StepOutput,
  type StepResult,
  StepTimeoutError,
} from '../backend.ts';
import type { RegistryCredential } from '../registry-auth.ts';
import { type ContainerLimits, canHold, containerOptions, engineVolumes, GO_LINE, heldOptions, NO_LIMITS, planLabels } from './container-options.ts';
import { engineMessage, pullImage, pullsFirst } from './image-pull.ts';
import { NetworkPool } from './network-pool.ts';
import { pumpOutput, type OutputProgress } from './output-stream.ts';

/** How long to wait for the last output after a container stopped before closing its stream. */
const DRAIN_MS = 2_000;
/** An engine that takes longer than this to answer a ping is taken for one that does not answer. */
const HEALTH_TIMEOUT_MS = 5_000;

/** The output of a detached step or service, read until its container goes. */
interface BackgroundOutput {
  pumped: Promise<void>;
  done: boolean;
  lose: (reason: string) => void;
}

/** A container made ahead of its step; `held`: started too, attached, its shell waiting for GO_LINE. */
interface Prepared {
  container: Docker.Container;
  held?: Duplex;
}

interface PlanState {
  /** The engine's name of the plan's network: its own, or one taken from the pool. */
  network: string;
  /** The network came from the pool and goes back to it. */
  pooled: boolean;
  /** Containers created for the plan, also found by label in destroy. */
  containers: Set<string>;
  /** Output pumps of detached steps and services, which outlive their run() call. */
  background: Set<BackgroundOutput>;
  /** Containers made ahead of their step's run() by prepare(), by step id; undefined when that failed. */
  prepared: Map<string, Promise<Prepared | undefined>>;
  destroyed: boolean;
  registryCredentials: RegistryCredential[];
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

/** Removal races are fine: the object is gone or going. */
function ignoreGone(err: unknown): void {
  const status = statusOf(err);
  if (status === 404 || status === 409) return;
  throw err;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * The CPUs a container may use: without a setting all the engine's CPUs but one, so a
 * step cannot take the whole machine from the engine, the runner and the server beside
 * it; a setting above what the engine has is lowered to that, since the engine refuses more.
 */
export function settleCpus(configured: number | undefined, engineCpus: number): number {
  const cpus = Math.max(1, Math.floor(engineCpus) || 1);
  if (configured === undefined) return Math.max(1, cpus - 1);
  return Math.min(configured, cpus);
}

export interface DockerBackendOptions {
  /** Limits for every step and service container; none when left out (`harrier exec` on one's own machine). */
  limits?: StepLimits;
  /**
   * When given, stage networks are kept after their stage for the next one (see
   * network-pool.ts) and carry these labels (the runner's) instead of the plan's.
   */
  networkLabels?: Record<string, string>;
}

const lostOutputMessage = (step: PlanStep) =>
  `the output of step "${step.name}" stopped coming for ${DRAIN_MS / 1000} s after its container stopped, before it ended, so the rest of it is lost`;

export class DockerBackend implements Backend {
  readonly docker: Docker;
  private readonly plans = new Map<string, PlanState>();
  private readonly limits: StepLimits | undefined;
  private settledLimits: ContainerLimits | undefined;
  private readonly networks: NetworkPool | undefined;

  constructor(docker: Docker = new Docker(), options: DockerBackendOptions = {}) {
    this.docker = docker;
    this.limits = options.limits;
    this.networks = options.networkLabels ? new NetworkPool(docker, options.networkLabels) : undefined;
  }

  /** The runner's limits with the CPU count settled against the engine's (asked once). */
  async containerLimits(): Promise<ContainerLimits> {
    if (!this.limits) return NO_LIMITS;
    if (this.settledLimits) return this.settledLimits;
    const info = await this.docker.info().catch(() => undefined);
    const limits = { ...this.limits, cpus: settleCpus(this.limits.cpus, Number(info?.NCPU) || os.availableParallelism()) };
    if (info) this.settledLimits = limits;
    return limits;
  }

  async ownContainerName(hostname: string): Promise<string | undefined> {
    try {
      // Docker sets a container's host name to the start of its id, which finds it here.
      const info = await this.docker.getContainer(hostname).inspect();
      return info.Config.Hostname === hostname ? info.Name.replace(/^\//, '') : undefined;
    } catch {
      return undefined;
    }
  }

  private state(plan: Plan): PlanState {
    let state = this.plans.get(plan.network.id);
    if (!state) {
      state = {
        network: plan.network.id,
        pooled: false,
        containers: new Set(),
        background: new Set(),
        prepared: new Map(),
        destroyed: false,
        registryCredentials: [],
      };
      this.plans.set(plan.network.id, state);
    }
    return state;
  }

  async setup(plan: Plan, signal: AbortSignal, options: SetupOptions = {}): Promise<void> {
    signal.throwIfAborted();
    const labels = planLabels(plan);
    const state = this.state(plan);
    state.registryCredentials = options.registryCredentials ?? [];
    const network = this.networks ? this.takeNetwork(this.networks, state, signal) : this.createNetwork(plan, labels, signal);
    const volumes = engineVolumes(plan).map((v) =>
      this.docker.createVolume({ Name: v.id, Labels: labels, abortSignal: signal } as Docker.VolumeCreateOptions).catch((err) => {
        throw new Error(`could not create volume ${v.id}: ${engineMessage(err)}`);
      }),
    );
    await Promise.all([network, ...volumes]);
  }

  private async takeNetwork(pool: NetworkPool, state: PlanState, signal: AbortSignal): Promise<void> {
    state.network = await pool.take(signal);
    state.pooled = true;
  }

  private async createNetwork(plan: Plan, labels: Record<string, string>, signal: AbortSignal): Promise<void> {
    await this.docker
      .createNetwork({
        Name: plan.network.id,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: { ...labels, ...plan.network.labels },
        abortSignal: signal,
      } as Docker.NetworkCreateOptions)
      .catch((err) => {
        if (statusOf(err) !== 409) throw new Error(`could not create network ${plan.network.id}: ${engineMessage(err)}`);
      });
  }

  /**
   * Creates a step's container ahead of its run (while the workspace is cloned). A step run
   * by `/bin/sh -c` is also started, its shell held until run() gives the word (a
   * container's start is most of its cost, and so overlaps the clone); for any other, run()
   * attaches and starts it. Best effort: when the image is pulled first or the container
   * cannot be made or started now, run() creates it as before and reports what went wrong.
   */
  prepare(plan: Plan, step: PlanStep, signal: AbortSignal): void {
    const state = this.state(plan);
    if (state.destroyed || state.prepared.has(step.id) || pullsFirst(step.pull, step.image)) return;
    const made = (async (): Promise<Prepared | undefined> => {
      const options = containerOptions(plan, step, await this.containerLimits(), state.network);
      const hold = canHold(step);
      const { name, ...body } = hold ? heldOptions(options) : options;
      const container = await this.docker.createContainer({ _query: { name }, _body: body, abortSignal: signal } as Docker.ContainerCreateOptions);
      state.containers.add(container.id);
      if (!hold) return { container };
      const held = (await container.attach({ stream: true, hijack: true, stdin: true, stdout: true, stderr: true })) as unknown as Duplex;
      try {
        await container.start();
      } catch {
        held.destroy();
        await container.remove({ force: true }).catch(() => {});
        state.containers.delete(container.id);
        return undefined;
      }
      return { container, held };
    })().catch(() => undefined);
    state.prepared.set(step.id, made);
  }

  async run(plan: Plan, step: PlanStep, output: StepOutput, signal: AbortSignal, outputLost?: OutputLost): Promise<StepResult> {
    signal.throwIfAborted();
    const state = this.state(plan);
    if (state.destroyed) throw new Error(`stage ${plan.network.id} is already torn down; step "${step.name}" cannot run`);
    let pullError: ImageUnavailableError | undefined;
    const prepared = await state.prepared.get(step.id);
    state.prepared.delete(step.id);
    let container = prepared?.container;
    if (!container) {
      const options = containerOptions(plan, step, await this.containerLimits(), state.network);
      // As in Drone: a failed pull under always/default falls back to the engine's copy of the image.
      if (pullsFirst(step.pull, step.image)) {
        pullError = await pullImage(this.docker, step.image, signal, state.registryCredentials).then(
          () => undefined,
          (err) => {
            if (err instanceof ImageUnavailableError) return err;
            throw err;
          },
        );
      }
      container = await this.create(step, options, signal, state.registryCredentials, pullError);
      state.containers.add(container.id);
    }
    if (pullError) await output(Buffer.from(`warning: ${pullError.message}; using the copy the engine already has\n`));
    // destroy() may have listed the plan's containers while this one was being made.
    if (state.destroyed) {
      prepared?.held?.destroy();
      await container.remove({ force: true }).catch(ignoreGone);
      throw new Error(`stage ${plan.network.id} was torn down while step "${step.name}" started`);
    }
    signal.throwIfAborted();

    // Attach before start, as `docker run` does, so not a byte of output is missed.
    const stream = prepared?.held ?? ((await container.attach({ stream: true, stdout: true, stderr: true })) as unknown as Readable);
    // Once the rest is given up on, a chunk still on its way is dropped: the last word was said.
    let lost = false;
    const lose = (reason: string) => {
      if (lost) return;
      lost = true;
      outputLost?.(reason);
    };
    const progress: OutputProgress = { chunks: 0, waiting: false };
    const pumped = pumpOutput(stream, (chunk) => (lost ? undefined : output(chunk)), progress);
    try {
      signal.throwIfAborted();
      if (prepared?.held) prepared.held.end(GO_LINE);
      else await container.start();
    } catch (err) {
      stream.destroy();
      if (signal.aborted) throw signal.reason;
      throw new Error(`could not start the container of step "${step.name}": ${engineMessage(err)}`);
    }

    if (step.detach || step.service) {
      const background: BackgroundOutput = { pumped, done: false, lose };
      void pumped.finally(() => {
        background.done = true;
        state.background.delete(background);
      });
      state.background.add(background);
      return { exitCode: 0, oomKilled: false };
    }
    return this.waitForExit(container, step, stream, { pumped, progress }, signal, lose);
  }

  private async create(
    step: PlanStep,
    options: Docker.ContainerCreateOptions,
    signal: AbortSignal,
    credentials: RegistryCredential[],
    pullError: ImageUnavailableError | undefined,
  ): Promise<Docker.Container> {
    const { name, ...body } = options;
    // Name in the query, settings in the body; dockerode would otherwise repeat the whole body in the URL.
    const request = () => this.docker.createContainer({ _query: { name }, _body: body, abortSignal: signal } as Docker.ContainerCreateOptions);
    try {
      return await request();
    } catch (err) {
      signal.throwIfAborted();
      const missingImage = statusOf(err) === 404 && /no such image/i.test(engineMessage(err));
      if (!missingImage) throw new Error(`could not create the container of step "${step.name}": ${engineMessage(err)}`);
      if (step.pull === 'never') throw new ImageUnavailableError(step.image, 'the engine does not have it and the pull policy is "never"');
      if (pullError) throw pullError;
    }
    await pullImage(this.docker, step.image, signal, credentials);
    return request();
  }

  private async waitForExit(
    container: Docker.Container,
    step: PlanStep,
    stream: Readable,
    reading: Reading,
    signal: AbortSignal,
    lose: (reason: string) => void,
  ): Promise<StepResult> {
    // Set before the kill is sent, so an exit caused by our kill is never taken for the step's own.
    let stopReason: unknown;
    let rejectStopped: (reason: unknown) => void = () => {};
    const stopped = new Promise<never>((_, reject) => (rejectStopped = reject));
    stopped.catch(() => {});
    const stop = (reason: unknown) => {
      if (stopReason !== undefined) return;
      stopReason = reason;
      container
        .kill()
        .catch(ignoreGone)
        .catch(() => {})
        .finally(() => rejectStopped(reason));
    };
    const onAbort = () => stop(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const timer =
      step.timeoutSeconds > 0 ? setTimeout(() => stop(new StepTimeoutError(step.timeoutSeconds)), step.timeoutSeconds * 1000) : undefined;
    if (signal.aborted) onAbort();
    try {
      const waited = container.wait() as Promise<{ StatusCode: number }>;
      waited.catch(() => {}); // may lose the race to a kill, then fail when the container goes
      const exit = await Promise.race([waited, stopped]);
      if (stopReason !== undefined) throw stopReason;
      if (!(await drain(reading, stream, signal))) lose(lostOutputMessage(step));
      const oomKilled = exit.StatusCode === 137 ? Boolean((await container.inspect()).State.OOMKilled) : false;
      return { exitCode: exit.StatusCode, oomKilled };
    } catch (err) {
      if (!(await drain(reading, stream, signal))) lose(lostOutputMessage(step));
      throw stopReason ?? new Error(`lost track of the container of step "${step.name}": ${engineMessage(err)}`);
    } finally {
      signal.removeEventListener('abort', onAbort);
      clearTimeout(timer);
    }
  }

  /**
   * Removes the plan's containers (the first half of destroy), so that the runner can say
   * the stage is done before the engine's slower removal of its network.
   */
  async removeContainers(plan: Plan): Promise<void> {
    const failures: string[] = [];
    await this.removePlanContainers(plan, this.noter(failures));
    if (failures.length > 0) throw new Error(`could not remove the containers of stage ${plan.network.id}: ${failures.join('; ')}`);
  }

  /** Collects removal failures; removal races (the object is gone or going) are fine. */
  private noter(failures: string[]): (what: string) => (err: unknown) => void {
    return (what) => (err) => {
      try {
        ignoreGone(err);
      } catch {
        failures.push(`${what}: ${engineMessage(err)}`);
      }
    };
  }

  private async removePlanContainers(plan: Plan, note: (what: string) => (err: unknown) => void): Promise<void> {
    const state = this.state(plan);
    state.destroyed = true;
    // A container still being made ahead of its step would escape the listing below.
    await Promise.all(state.prepared.values());
    const filters = { label: labelFilters({ [LABEL_PLAN]: plan.network.id }) };
    const listed = await this.docker.listContainers({ all: true, filters }).catch((err) => {
      note('list containers')(err);
      return [];
    });
    const ids = new Set([...state.containers, ...listed.map((c) => c.Id)]);
    await Promise.all([...ids].map((id) => this.docker.getContainer(id).remove({ force: true, v: true }).catch(note(`remove container ${id}`))));
    // Removed containers close their streams; let detached steps' last output arrive.
    const background = [...state.background];
    await Promise.race([Promise.allSettled(background.map((b) => b.pumped)), delay(DRAIN_MS)]);
    for (const b of background) {
      if (!b.done) b.lose(`the output of this detached step or service did not end within ${DRAIN_MS / 1000} s after its container was removed, so the rest of it is lost`);
    }
  }

  async destroy(plan: Plan): Promise<void> {
    const failures: string[] = [];
    const note = this.noter(failures);
    await this.removePlanContainers(plan, note);
    const filters = { label: labelFilters({ [LABEL_PLAN]: plan.network.id }) };
    const { network, pooled } = this.state(plan);
    // Only an emptied network is kept: one a container is left in goes.
    const keep = pooled && this.networks && failures.length === 0;
    await (keep ? this.networks!.give(network) : this.docker.getNetwork(network).remove()).catch(note(`remove network ${network}`));
    this.state(plan).pooled = false;
    const labelled = await this.docker.listVolumes({ filters }).catch((err) => {
      note('list volumes')(err);
      return { Volumes: [] as Docker.VolumeInspectInfo[] };
    });
    const volumes = new Set([...engineVolumes(plan).map((v) => v.id), ...(labelled.Volumes ?? []).map((v) => v.Name)]);
    await Promise.all([...volumes].map((name) => this.docker.getVolume(name).remove().catch(note(`remove volume ${name}`))));

    if (failures.length > 0) throw new Error(`could not tear down stage ${plan.network.id}: ${failures.join('; ')}`);
    this.plans.delete(plan.network.id);
  }

  async close(): Promise<void> {
    await this.networks?.close();
  }

  async healthy(signal: AbortSignal): Promise<void> {
    const timeout = AbortSignal.timeout(HEALTH_TIMEOUT_MS);
    try {
      // dockerode's types leave out ping's options; its code hands abortSignal to the request.
      const ping = this.docker.ping.bind(this.docker) as unknown as (options: { abortSignal: AbortSignal }) => Promise<unknown>;
      await ping({ abortSignal: AbortSignal.any([signal, timeout]) });
    } catch (err) {
      signal.throwIfAborted();
      const why = timeout.aborted ? `no answer within ${HEALTH_TIMEOUT_MS / 1000} s` : engineMessage(err);
      throw new Error(`the Docker engine does not answer: ${why}`);
    }
  }

  async removeLeftovers(labels: Record<string, string>): Promise<number> {
    const filters = { label: labelFilters(labels) };
    const containers = await this.docker.listContainers({ all: true, filters });
    await Promise.all(containers.map((c) => this.docker.getContainer(c.Id).remove({ force: true, v: true }).catch(ignoreGone)));
    const networks = await this.docker.listNetworks({ filters });
    await Promise.all(networks.map((n) => this.docker.getNetwork(n.Id).remove().catch(ignoreGone)));
    const volumes = (await this.docker.listVolumes({ filters })).Volumes ?? [];
    await Promise.all(volumes.map((v) => this.docker.getVolume(v.Name).remove().catch(ignoreGone)));
    return containers.length + networks.length + volumes.length;
  }
}

/** A step's output being read: done when the stream ended, and how many chunks went to the log so far. */
export interface Reading {
  pumped: Promise<void>;
  progress: OutputProgress;
}

/**
 * After the container stopped, reads its output to the end for as long as it keeps coming:
 * a log writer slower than the container (a busy server) holds the stream back, and its
 * rest must not be thrown away. Only output that made no progress for DRAIN_MS is given
 * up on; then the stream is let go. False: it did not end.
 */
export async function drain({ pumped, progress }: Reading, stream: Readable, signal?: AbortSignal): Promise<boolean> {
  let ended = false;
  // Waiting on the log writer (the server takes lines slower than the step printed them) is
  // not the output stopping: the stream is only held back by us. A stopped step (cancelled,
  // timed out, its stage lost) waits on the writer no longer.
  for (let seen = -1; !ended && (progress.chunks !== seen || (progress.waiting && !signal?.aborted)); ) {
    seen = progress.chunks;
    ended = await Promise.race([pumped.then(() => true), delay(DRAIN_MS).then(() => false)]);
  }
  stream.destroy();
  return ended;
}
