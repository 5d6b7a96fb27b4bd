// Reading one entry of `steps:` or `services:` into a PipelineStep with Drone's defaults.

import { isMap, isScalar } from 'yaml';
import type { Node } from 'yaml';
import type { EnvValue, PipelineStep, PullPolicy, VolumeMount } from './types.ts';
import { readConditions } from './parse-conditions.ts';
import { imageProblem, normalizeImage } from './image.ts';
import { parseDuration } from './duration.ts';
import {
  checkKeys,
  describe,
  hasMergeKey,
  isEmpty,
  positionOf,
  readBool,
  readMap,
  readSeq,
  readString,
  readStringList,
  report,
  resolve,
  warn,
  type Entry,
  type ReadContext,
} from './yaml-reader.ts';

const STEP_KEYS = [
  'name',
  'image',
  'commands',
  'entrypoint',
  'command',
  'environment',
  'settings',
  'pull',
  'privileged',
  'detach',
  'failure',
  'depends_on',
  'when',
  'volumes',
  'timeout',
  'working_dir',
] as const;

/** Drone docker-runner step keys Harrier does not act on; files using them still load. */
const IGNORED_STEP_KEYS: Record<string, string> = {
  user: 'Harrier runs the image as its default user',
  shell: 'commands always run with /bin/sh',
  network_mode: 'steps always join the stage network',
  dns: 'steps use the engine\'s DNS settings',
  dns_search: 'steps use the engine\'s DNS settings',
  extra_hosts: 'steps use the engine\'s host names',
  devices: 'Harrier does not map devices into steps',
  shm_size: 'the engine\'s default shared memory size applies',
  mem_limit: 'each step gets the memory limit its runner sets (HARRIER_RUNNER_MEMORY_LIMIT)',
  memswap_limit: 'steps get no swap beyond the memory limit their runner sets (HARRIER_RUNNER_MEMORY_LIMIT)',
};

const PULL_POLICIES: readonly PullPolicy[] = ['always', 'never', 'if-not-exists', 'default'];

export function emptyStep(name: string, position: PipelineStep['position']): PipelineStep {
  return {
    name,
    image: '',
    commands: [],
    entrypoint: [],
    command: [],
    environment: {},
    settings: {},
    pull: 'default',
    privileged: false,
    detach: false,
    failure: 'always',
    dependsOn: [],
    when: {},
    volumes: [],
    timeout: 0,
    position,
  };
}

type StepReader = (ctx: ReadContext, step: PipelineStep, value: Node | null, what: string) => void;

const readers: Record<(typeof STEP_KEYS)[number], StepReader> = {
  name: (ctx, step, v, what) => {
    step.name = readString(ctx, v, what) ?? '';
  },
  image: (ctx, step, v, what) => {
    const image = readString(ctx, v, what)?.trim() ?? '';
    const problem = image ? imageProblem(image) : undefined;
    if (problem) report(ctx, resolve(ctx, v), `${problem}; write it as \`name:tag\`, e.g. \`golang:1.22\``);
    step.image = image ? normalizeImage(image) : '';
  },
  commands: (ctx, step, v, what) => {
    step.commands = readCommands(ctx, v, what);
  },
  entrypoint: (ctx, step, v, what) => {
    step.entrypoint = readStringList(ctx, v, what);
  },
  command: (ctx, step, v, what) => {
    step.command = readStringList(ctx, v, what);
  },
  environment: (ctx, step, v, what) => {
    step.environment = readEnvironment(ctx, v, what);
  },
  settings: (ctx, step, v, what) => {
    step.settings = readSettings(ctx, v, what);
  },
  pull: (ctx, step, v, what) => {
    step.pull = readPull(ctx, v, what) ?? 'default';
  },
  privileged: (ctx, step, v, what) => {
    step.privileged = readBool(ctx, v, what) ?? false;
  },
  detach: (ctx, step, v, what) => {
    step.detach = readBool(ctx, v, what) ?? false;
  },
  failure: (ctx, step, v, what) => {
    step.failure = readFailure(ctx, v, what);
  },
  depends_on: (ctx, step, v, what) => {
    step.dependsOn = readStringList(ctx, v, what);
  },
  when: (ctx, step, v) => {
    step.when = readConditions(ctx, v, 'when');
  },
  volumes: (ctx, step, v, what) => {
    step.volumes = readMounts(ctx, v, what);
  },
  timeout: (ctx, step, v, what) => {
    step.timeout = readTimeout(ctx, v, what);
  },
  working_dir: (ctx, step, v, what) => {
    const dir = readString(ctx, v, what);
    if (dir) step.workingDir = dir;
  },
};

/** One `- name: ...` entry; `kind` names the list it came from, for messages. */
export function readStep(ctx: ReadContext, node: Node, kind: 'step' | 'service', index: number): PipelineStep | undefined {
  const target = resolve(ctx, node);
  if (!isMap(target)) {
    report(ctx, target ?? node, `each ${kind} must be a mapping with \`name:\` and \`image:\`, not ${describe(target)}`);
    return undefined;
  }
  const entries = readMap(ctx, target, kind) ?? [];
  const nameEntry = entries.find((e) => e.key === 'name');
  const label = nameEntry ? `${kind} \`${readString(ctx, nameEntry.value, 'name') ?? ''}\`` : `${kind} #${index + 1}`;
  const step = emptyStep('', positionOf(ctx, target));
  for (const e of checkKeys(ctx, entries, { known: STEP_KEYS, ignored: IGNORED_STEP_KEYS }, label)) {
    readers[e.key as (typeof STEP_KEYS)[number]](ctx, step, e.value, e.key);
  }
  checkRequired(ctx, target, step, kind, index, entries);
  return step;
}

function checkRequired(ctx: ReadContext, node: Node, step: PipelineStep, kind: string, index: number, entries: Entry[]): void {
  if (!step.name) {
    report(ctx, node, `${kind} #${index + 1} has no name: add \`name: <${kind} name>\``);
  } else if (step.name.length > 100) {
    report(ctx, node, `${kind} name \`${step.name.slice(0, 20)}…\` is longer than 100 characters; shorten it`);
  }
  if (!step.image) {
    const at = entries.find((e) => e.key === 'image')?.keyNode ?? node;
    report(ctx, at, `${kind} \`${step.name || `#${index + 1}`}\` has no image: add \`image: <image>\`, e.g. \`image: alpine:3\``);
  }
}

/** Commands are strings; an unquoted `echo a: b` is parsed by YAML as a mapping, a common surprise. */
function readCommands(ctx: ReadContext, node: Node | null, what: string): string[] {
  const target = resolve(ctx, node);
  if (isEmpty(target)) return [];
  if (isScalar(target)) return readStringList(ctx, target, what);
  const items = readSeq(ctx, target, what) ?? [];
  const out: string[] = [];
  items.forEach((item, i) => {
    const resolved = resolve(ctx, item);
    if (isMap(resolved) && !hasMergeKey(resolved)) {
      report(ctx, resolved, `${what}[${i}] is a mapping, not a command: YAML reads \`: \` as a key; quote the whole command, e.g. - 'echo "a: b"'`);
      return;
    }
    const s = readString(ctx, resolved, `${what}[${i}]`);
    if (s !== undefined) out.push(s);
  });
  return out;
}

/** `KEY: value` or `KEY: {from_secret: name}`; plain scalars keep their written text (`1.10` stays "1.10"). */
export function readEnvironment(ctx: ReadContext, node: Node | null, what: string): Record<string, EnvValue> {
  const out: Record<string, EnvValue> = {};
  for (const e of readMap(ctx, node, what) ?? []) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(e.key)) {
      report(ctx, e.keyNode, `environment variable name \`${e.key}\` is not valid: use letters, digits and _ and do not start with a digit`);
      continue;
    }
    const value = readEnvValue(ctx, e, `${what}.${e.key}`);
    if (value) out[e.key] = value;
  }
  return out;
}

function readEnvValue(ctx: ReadContext, e: Entry, what: string): EnvValue | undefined {
  const target = resolve(ctx, e.value);
  if (isMap(target)) {
    const secret = readFromSecret(ctx, target, what);
    return secret === undefined ? undefined : { fromSecret: secret };
  }
  if (isEmpty(target)) return { value: '' };
  const value = readString(ctx, target, what);
  return value === undefined ? undefined : { value };
}

/** The secret name of `{from_secret: name}`; an empty name is kept ('') for the linter to report. */
export function readFromSecret(ctx: ReadContext, node: Node, what: string): string | undefined {
  const entries = readMap(ctx, node, what) ?? [];
  const known = checkKeys(ctx, entries, { known: ['from_secret'] }, `\`${what}\``);
  if (known.length === 0) {
    if (entries.length === 0) report(ctx, node, `\`${what}\` must be a string or \`from_secret: <secret name>\``);
    return undefined;
  }
  const name = readString(ctx, known[0].value, `${what}.from_secret`)?.trim() ?? '';
  if (!name) report(ctx, known[0].keyNode, `\`${what}\` takes its value from no secret: write \`from_secret: <secret name>\``);
  return name;
}

/** Settings keep YAML's types (Drone passes numbers and lists on typed); `{from_secret}` is marked. */
function readSettings(ctx: ReadContext, node: Node | null, what: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const e of readMap(ctx, node, what) ?? []) {
    const target = resolve(ctx, e.value);
    if (isSecretRef(target)) {
      out[e.key] = { from_secret: readFromSecret(ctx, target, `${what}.${e.key}`) ?? '' };
    } else if (isEmpty(target)) {
      out[e.key] = null;
    } else if (target) {
      out[e.key] = settingValue(ctx, target, `${what}.${e.key}`);
    }
  }
  return out;
}

function isSecretRef(node: Node | null): node is Node {
  if (!isMap(node) || node.items.length !== 1) return false;
  const key = (node.items[0] as { key: unknown }).key;
  return isScalar(key) && key.value === 'from_secret';
}

function settingValue(ctx: ReadContext, node: Node, what: string): unknown {
  try {
    return node.toJS(ctx.doc, { maxAliasCount: 100 });
  } catch (err) {
    // toJS throws on what the YAML library cannot build (a `<<` given a list, too many aliases).
    report(ctx, node, `\`${what}\` cannot be read: ${(err as Error).message}`);
    return undefined;
  }
}

function readPull(ctx: ReadContext, node: Node | null, what: string): PullPolicy | undefined {
  const value = readString(ctx, node, what)?.toLowerCase();
  if (value === undefined) return undefined;
  if ((PULL_POLICIES as readonly string[]).includes(value)) return value as PullPolicy;
  report(ctx, resolve(ctx, node), `\`pull\` must be one of ${PULL_POLICIES.join(', ')}, not \`${value}\``);
  return undefined;
}

function readFailure(ctx: ReadContext, node: Node | null, what: string): PipelineStep['failure'] {
  const value = readString(ctx, node, what);
  if (value === undefined || value === 'always') return 'always';
  if (value === 'ignore') return 'ignore';
  if (['fast', 'fast-fail', 'fail-fast'].includes(value)) {
    warn(ctx, resolve(ctx, node), `\`failure: ${value}\` is not supported; a failing step fails the stage as usual`);
    return 'always';
  }
  report(ctx, resolve(ctx, node), `\`failure\` must be \`ignore\` (the stage goes on when the step fails) or \`always\`, not \`${value}\``);
  return 'always';
}

function readMounts(ctx: ReadContext, node: Node | null, what: string): VolumeMount[] {
  const out: VolumeMount[] = [];
  const items = readSeq(ctx, node, what) ?? [];
  items.forEach((item, i) => {
    const target = resolve(ctx, item);
    if (isScalar(target)) {
      report(ctx, target, `${what}[${i}] \`${String(target.value)}\` is the old \`host:container\` form: declare a volume under the pipeline's \`volumes:\` and mount it here with \`- name: <volume>\` and \`path: <path in container>\``);
      return;
    }
    const entries = checkKeys(ctx, readMap(ctx, target, `${what}[${i}]`) ?? [], { known: ['name', 'path'] }, `${what}[${i}]`);
    const get = (k: string) => readString(ctx, entries.find((e) => e.key === k)?.value ?? null, `${what}[${i}].${k}`) ?? '';
    const mount = { name: get('name'), path: get('path') };
    if (!mount.name || !mount.path) {
      report(ctx, target, `${what}[${i}] needs both \`name:\` (a volume declared in the pipeline) and \`path:\` (where it appears in the container)`);
      return;
    }
    if (!mount.path.startsWith('/')) report(ctx, target, `${what}[${i}] path \`${mount.path}\` must be absolute (start with /)`);
    out.push(mount);
  });
  return out;
}

function readTimeout(ctx: ReadContext, node: Node | null, what: string): number {
  const target = resolve(ctx, node);
  if (isEmpty(target)) return 0;
  if (isScalar(target) && typeof target.value === 'number' && target.value >= 0) return Math.round(target.value);
  const seconds = isScalar(target) ? parseDuration(String(target.value)) : undefined;
  if (seconds !== undefined) return seconds;
  report(ctx, target, `\`${what}\` must be seconds (\`600\`) or a duration like \`90s\`, \`5m\`, \`1h30m\`, not ${describe(target)}`);
  return 0;
}
