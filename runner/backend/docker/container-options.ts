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

export function containerOptions(plan: Plan, step: PlanStep, limits: ContainerLimits = NO_LIMITS): Docker.ContainerCreateOptions {
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
      NetworkMode: plan.network.id,
      ...limitOptions(limits),
    },
    NetworkingConfig: {
      EndpointsConfig: { [plan.network.id]: { Aliases: step.aliases } },
    },
  };
}
