// Translates one PlanStep into the engine's create-container request.
import type Docker from 'dockerode';
import type { Plan, PlanStep } from '../../../pipeline/types.ts';
import { LABEL_MANAGED, LABEL_PLAN } from '../../labels.ts';
import type { StepLimits } from '../backend.ts';

/** The runner's limits with the CPU count settled (0: no limit). */
export type ContainerLimits = Required<StepLimits>;

export const NO_LIMITS: ContainerLimits = { memoryBytes: 0, cpus: 0, pids: 0 };

/** The HostConfig fields that hold a container to the runner's limits; a limit of 0 is left out. */
export function limitOptions(limits: ContainerLimits): Docker.HostConfig {
  return {
    // Swap as large as memory means no swap: a step over its memory is killed, not slowed to a crawl.
    ...(limits.memoryBytes > 0 && { Memory: limits.memoryBytes, MemorySwap: limits.memoryBytes }),
    ...(limits.cpus > 0 && { NanoCpus: Math.round(limits.cpus * 1e9) }),
    ...(limits.pids > 0 && { PidsLimit: limits.pids }),
  };
}

/** Labels on every object of the plan: the plan's own, plus the two the backend relies on to clean up. */
export function planLabels(plan: Plan): Record<string, string> {
  return { ...plan.labels, [LABEL_MANAGED]: 'true', [LABEL_PLAN]: plan.network.id };
}

/** The plan's volumes the engine keeps for the stage; an in-memory one is a tmpfs of each container instead. */
export function engineVolumes(plan: Plan): Plan['volumes'] {
  return plan.volumes.filter((v) => v.kind === 'temp' && v.medium !== 'memory');
}

/**
 * `network`: the engine's name of the stage's network, when it is not the plan's own
 * (a network kept from an earlier stage).
 */
export function containerOptions(plan: Plan, step: PlanStep, limits: ContainerLimits = NO_LIMITS, network = plan.network.id): Docker.ContainerCreateOptions {
  const binds: string[] = [];
  const volumeMounts: Docker.MountConfig = [];
  for (const mount of step.mounts) {
    const volume = plan.volumes.find((v) => v.id === mount.volumeId);
    if (!volume) {
      throw new Error(`step "${step.name}" mounts volume "${mount.volumeId}", which the plan does not declare`);
    }
    if (volume.kind === 'host') {
      if (!volume.hostPath) throw new Error(`host volume "${volume.name}" has no host path`);
      binds.push(`${volume.hostPath}:${mount.target}`);
    } else if (volume.medium === 'memory') {
      // As in Drone, each container gets its own empty tmpfs. Size 0 is the engine's default
      // (half the memory); mode 1777, as /tmp, lets steps running as any user write to it.
      volumeMounts.push({ Type: 'tmpfs', Source: '', Target: mount.target, TmpfsOptions: { SizeBytes: volume.sizeLimit ?? 0, Mode: 0o1777 } });
    } else {
      volumeMounts.push({ Type: 'volume', Source: volume.id, Target: mount.target });
    }
  }
  return {
    name: step.id,
    Image: step.image,
    Env: Object.entries(step.env).map(([key, value]) => `${key}=${value}`),
    Entrypoint: step.entrypoint.length > 0 ? step.entrypoint : undefined,
    Cmd: step.command.length > 0 ? step.command : undefined,
    WorkingDir: step.workingDir || undefined,
    Labels: { ...planLabels(plan), ...step.labels },
    Tty: false,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: false,
    HostConfig: {
      Binds: binds,
      Mounts: volumeMounts,
      Privileged: step.privileged,
      NetworkMode: network,
      ...limitOptions(limits),
    },
    NetworkingConfig: {
      EndpointsConfig: { [network]: { Aliases: step.aliases } },
    },
  };
}

/** The word a held step's shell waits to read on its input before it runs its command. */
const GO_WORD = 'go';
export const GO_LINE = `${GO_WORD}\n`;

/**
 * Whether the step's container can be started before its turn and hold there: its command
 * is run by `/bin/sh -c`, as every step with `commands` is, so a shell can wait first.
 */
export function canHold(step: PlanStep): boolean {
  return step.entrypoint.length === 2 && step.entrypoint[0] === '/bin/sh' && step.entrypoint[1] === '-c' && step.command.length === 1;
}

/**
 * The options of a held container: its shell reads one line on its input before the step's
 * command, and runs nothing unless that line is the runner's word. Input is closed after
 * the word, so the command sees the same empty input as an unheld one.
 */
export function heldOptions(options: Docker.ContainerCreateOptions): Docker.ContainerCreateOptions {
  const [command] = options.Cmd as string[];
  return {
    ...options,
    Cmd: [`read -r harrier_go && [ "$harrier_go" = ${GO_WORD} ] || exit 125\nunset harrier_go\n${command}`],
    AttachStdin: true,
    OpenStdin: true,
    StdinOnce: true,
  };
}
