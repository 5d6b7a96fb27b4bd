// Plans built by hand for backend and executor tests, shaped as the compiler makes them.
import crypto from 'node:crypto';
import type { Plan, PlanStep, PlanVolume } from '../../pipeline/types.ts';
import { SCRIPT_COMMAND, SCRIPT_ENTRYPOINT, shellScript } from '../../pipeline/step-script.ts';
import { TEST_IMAGES } from '../../test/support/images.ts';

export interface HandPlanOptions {
  /** Labels on everything; tests set a unique runner label to find their leftovers. */
  labels?: Record<string, string>;
  workspaceHostPath?: string;
  volumes?: PlanVolume[];
}

export function handPlan(steps: HandStep[], options: HandPlanOptions = {}): Plan {
  const prefix = `harrier-test-${crypto.randomBytes(4).toString('hex')}`;
  const labels = { 'io.harrier.managed': 'true', ...options.labels };
  const volumes: PlanVolume[] = [...(options.volumes ?? [])];
  if (options.workspaceHostPath) {
    volumes.push({ id: `${prefix}-workspace`, name: 'workspace', kind: 'host', hostPath: options.workspaceHostPath });
  }
  const workspaceId = options.workspaceHostPath ? `${prefix}-workspace` : '';
  return {
    network: { id: prefix, labels: {} },
    volumes,
    workspace: { volumeId: workspaceId, path: '/drone/src' },
    labels,
    steps: steps.map((step, i) => handStep(prefix, i + 1, step, workspaceId)),
  };
}

function handStep(prefix: string, number: number, step: HandStep, workspaceId: string): PlanStep {
  const { commands, ...rest } = step;
  const script = commands ? shellScript(commands) : undefined;
  return {
    id: `${prefix}-${step.name}`,
    number,
    image: TEST_IMAGES.busybox,
    pull: 'if-not-exists',
    entrypoint: script ? [...SCRIPT_ENTRYPOINT] : [],
    command: script ? [...SCRIPT_COMMAND] : [],
    secretEnv: {},
    workingDir: workspaceId ? '/drone/src' : '',
    mounts: workspaceId ? [{ volumeId: workspaceId, target: '/drone/src' }] : [],
    privileged: false,
    detach: false,
    service: false,
    errIgnore: false,
    dependsOn: [],
    runOn: [],
    timeoutSeconds: 0,
    labels: { 'io.harrier.step': step.name },
    aliases: [step.name],
    ...rest,
    env: { ...(script ? { DRONE_SCRIPT: script } : {}), ...rest.env },
  };
}

/** Hand-plan steps accept `commands`, compiled to DRONE_SCRIPT as the compiler would. */
export type HandStep = Partial<PlanStep> & { name: string; commands?: string[] };
