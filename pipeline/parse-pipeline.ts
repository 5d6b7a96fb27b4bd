// Reading one `kind: pipeline` document into a Pipeline with Drone's defaults.

import { isMap, isSeq } from 'yaml';
import type { Node } from 'yaml';
import type { Pipeline, PipelineStep, PipelineVolume } from './types.ts';
import { readConditions } from './parse-conditions.ts';
import { readEnvironment, readStep } from './parse-step.ts';
import {
  checkKeys,
  describe,
  holdsAnchor,
  isEmpty,
  positionOf,
  readBool,
  readInt,
  readMap,
  readSeq,
  readString,
  readStringList,
  readStringMap,
  report,
  resolve,
  type Entry,
  type ReadContext,
} from './yaml-reader.ts';
import { didYouMean } from './suggest.ts';

export const DEFAULT_WORKSPACE = '/drone/src';

const PIPELINE_KEYS = [
  'kind',
  'type',
  'name',
  'version',
  'platform',
  'node',
  'clone',
  'workspace',
  'environment',
  'steps',
  'services',
  'volumes',
  'trigger',
  'depends_on',
  'concurrency',
  'image_pull_secrets',
] as const;

export function emptyPipeline(position: Pipeline['position']): Pipeline {
  return {
    kind: 'pipeline',
    type: 'docker',
    name: 'default',
    platform: { os: 'linux', arch: 'amd64', variant: '', version: '' },
    node: {},
    clone: { disable: false, depth: 0, retries: 0 },
    workspace: { path: DEFAULT_WORKSPACE },
    environment: {},
    steps: [],
    services: [],
    volumes: [],
    trigger: {},
    dependsOn: [],
    concurrency: { limit: 0 },
    imagePullSecrets: [],
    position,
  };
}

type PipelineReader = (ctx: ReadContext, p: Pipeline, value: Node | null, e: Entry) => void;

const readers: Record<(typeof PIPELINE_KEYS)[number], PipelineReader> = {
  kind: () => {},
  version: () => {},
  type: (ctx, p, v) => {
    const type = readString(ctx, v, 'type') ?? 'docker';
    if (type !== 'docker') {
      report(ctx, resolve(ctx, v), `pipeline type \`${type}\` is not supported: Harrier runs \`type: docker\` pipelines`);
    }
    p.type = type;
  },
  name: (ctx, p, v) => {
    p.name = readString(ctx, v, 'name') || 'default';
  },
  platform: (ctx, p, v) => {
    for (const e of pick(ctx, v, 'platform', ['os', 'arch', 'variant', 'version'])) {
      const value = readString(ctx, e.value, `platform.${e.key}`);
      if (value) p.platform[e.key as keyof Pipeline['platform']] = value;
    }
  },
  node: (ctx, p, v) => {
    p.node = readStringMap(ctx, v, 'node');
  },
  clone: (ctx, p, v) => readClone(ctx, p, v),
  workspace: (ctx, p, v) => readWorkspace(ctx, p, v),
  environment: (ctx, p, v) => {
    p.environment = readEnvironment(ctx, v, 'environment');
  },
  steps: (ctx, p, v) => {
    p.steps = readSteps(ctx, v, 'steps', 'step');
  },
  services: (ctx, p, v) => {
    p.services = readSteps(ctx, v, 'services', 'service');
  },
  volumes: (ctx, p, v) => {
    p.volumes = readVolumes(ctx, v);
  },
  trigger: (ctx, p, v) => {
    p.trigger = readConditions(ctx, v, 'trigger');
  },
  depends_on: (ctx, p, v) => {
    p.dependsOn = readStringList(ctx, v, 'depends_on');
  },
  concurrency: (ctx, p, v) => {
    const entries = pick(ctx, v, 'concurrency', ['limit']);
    p.concurrency = { limit: readInt(ctx, entryValue(entries, 'limit'), 'concurrency.limit') ?? 0 };
  },
  image_pull_secrets: (ctx, p, v) => {
    p.imagePullSecrets = readStringList(ctx, v, 'image_pull_secrets');
  },
};

/** The document's root mapping as a Pipeline; undefined when the root is not a mapping. */
export function readPipeline(ctx: ReadContext, root: Node): Pipeline | undefined {
  const entries = readMap(ctx, root, 'pipeline document');
  if (!entries) return undefined;
  const pipeline = emptyPipeline(positionOf(ctx, root));
  for (const e of entries) {
    if ((PIPELINE_KEYS as readonly string[]).includes(e.key)) {
      readers[e.key as (typeof PIPELINE_KEYS)[number]](ctx, pipeline, e.value, e);
    } else if (!holdsAnchor(e.value)) {
      // A top-level block holding `&anchors` exists to be referenced (Drone ignores
      // unknown keys, so users keep templates there); anything else is a typo.
      report(ctx, e.keyNode, `unknown key \`${e.key}\` in the pipeline.${didYouMean(e.key, PIPELINE_KEYS)}`);
    }
  }
  const steps = resolve(ctx, entryValue(entries, 'steps'));
  if (isEmpty(steps) || (isSeq(steps) && steps.items.length === 0)) {
    report(ctx, root, `pipeline \`${pipeline.name}\` has no \`steps:\`; add a list of steps, e.g. \`steps:\\n  - name: build\\n    image: alpine:3\``);
  }
  return pipeline;
}

/** The known entries of a small mapping section, unknown keys reported. */
function pick(ctx: ReadContext, node: Node | null, what: string, known: readonly string[]): Entry[] {
  return checkKeys(ctx, readMap(ctx, node, what) ?? [], { known }, `\`${what}\``);
}

function entryValue(entries: Entry[], key: string): Node | null {
  return entries.find((e) => e.key === key)?.value ?? null;
}

function readClone(ctx: ReadContext, p: Pipeline, node: Node | null): void {
  const entries = checkKeys(
    ctx,
    readMap(ctx, node, 'clone') ?? [],
    {
      known: ['disable', 'depth', 'retries'],
      ignored: { skip_verify: 'the runner clones on its host with its own TLS settings', trace: 'clone output is always logged' },
    },
    '`clone`',
  );
  p.clone = {
    disable: readBool(ctx, entryValue(entries, 'disable'), 'clone.disable') ?? false,
    depth: readInt(ctx, entryValue(entries, 'depth'), 'clone.depth') ?? 0,
    retries: readInt(ctx, entryValue(entries, 'retries'), 'clone.retries') ?? 0,
  };
}

/** Drone's workspace: `path`, absolute or relative to `base` (default /drone/src). */
function readWorkspace(ctx: ReadContext, p: Pipeline, node: Node | null): void {
  const entries = pick(ctx, node, 'workspace', ['base', 'path']);
  const base = readString(ctx, entryValue(entries, 'base'), 'workspace.base') || DEFAULT_WORKSPACE;
  const path = readString(ctx, entryValue(entries, 'path'), 'workspace.path') ?? '';
  if (!base.startsWith('/')) report(ctx, resolve(ctx, entryValue(entries, 'base')), '`workspace.base` must be an absolute path (start with /)');
  const full = path.startsWith('/') ? path : joinPath(base, path);
  if (['/', '/drone', '/var/run', '/var/run/docker.sock'].includes(full)) {
    report(ctx, resolve(ctx, node), `workspace path \`${full}\` is reserved; use a folder of its own, e.g. /drone/src`);
  }
  p.workspace = { path: full };
}

function joinPath(base: string, rel: string): string {
  const parts: string[] = [];
  for (const part of `${base}/${rel}`.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

function readSteps(ctx: ReadContext, node: Node | null, what: 'steps' | 'services', kind: 'step' | 'service'): PipelineStep[] {
  const target = resolve(ctx, node);
  const hint = isMap(target) ? ': write each as `- name: <name>` followed by its keys (Drone syntax; a map of steps is Woodpecker\'s)' : '';
  const items = readSeq(ctx, node, what, hint);
  if (!items) return [];
  const steps: PipelineStep[] = [];
  items.forEach((item, i) => {
    const step = readStep(ctx, item, kind, i);
    if (step) steps.push(step);
  });
  return steps;
}

function readVolumes(ctx: ReadContext, node: Node | null): PipelineVolume[] {
  const out: PipelineVolume[] = [];
  (readSeq(ctx, node, 'volumes') ?? []).forEach((item, i) => {
    const what = `volumes[${i}]`;
    const entries = pick(ctx, resolve(ctx, item), what, ['name', 'temp', 'host']);
    const name = readString(ctx, entryValue(entries, 'name'), `${what}.name`) ?? '';
    const volume = readVolumeSource(ctx, entries, what, name);
    if (!name) report(ctx, resolve(ctx, item), `${what} has no name: add \`name: <volume name>\``);
    if (volume && name) out.push({ ...volume, position: positionOf(ctx, resolve(ctx, item)) });
  });
  return out;
}

const SIZE_UNITS: Record<string, number> = { '': 0, k: 1, m: 2, g: 3, t: 4, p: 5 };

/**
 * Drone's `size_limit`: bytes, or a number with a unit (`512mb`, `1g`, `1.5GB` count in
 * 1000s as Docker's FromHumanSize does; `256Mi`, `1GiB` in 1024s).
 */
function readSizeLimit(ctx: ReadContext, node: Node | null, what: string): number | undefined {
  const target = resolve(ctx, node);
  if (isEmpty(target)) return undefined;
  const text = target && 'value' in target ? String((target as { value: unknown }).value).trim() : '';
  const match = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?)b?$/i.exec(text);
  const bytes = match ? Math.floor(Number(match[1]) * (match[3] ? 1024 : 1000) ** SIZE_UNITS[match[2].toLowerCase()]) : NaN;
  if (!Number.isSafeInteger(bytes) || isMap(target) || isSeq(target)) {
    report(ctx, target, `\`${what}\` must be a size in bytes (e.g. 268435456) or with a unit (e.g. 256Mi, 1GB), not ${describe(target)}`);
    return undefined;
  }
  return bytes;
}

function readVolumeSource(ctx: ReadContext, entries: Entry[], what: string, name: string): PipelineVolume | undefined {
  const temp = entries.find((e) => e.key === 'temp');
  const host = entries.find((e) => e.key === 'host');
  if (!temp === !host) {
    report(ctx, (temp ?? host)?.keyNode ?? entries[0]?.keyNode, `volume \`${name}\` needs exactly one of \`temp: {}\` or \`host: {path: /path/on/host}\``);
    return undefined;
  }
  if (temp) {
    const fields = pick(ctx, temp.value, `${what}.temp`, ['medium', 'size_limit']);
    const medium = readString(ctx, entryValue(fields, 'medium'), `${what}.temp.medium`);
    const sizeLimit = readSizeLimit(ctx, entryValue(fields, 'size_limit'), `${what}.temp.size_limit`);
    return { name, temp: { ...(medium && { medium }), ...(sizeLimit !== undefined && { sizeLimit }) } };
  }
  const fields = pick(ctx, host!.value, `${what}.host`, ['path']);
  const path = readString(ctx, entryValue(fields, 'path'), `${what}.host.path`) ?? '';
  if (!path.startsWith('/')) {
    report(ctx, isEmpty(host!.value) ? host!.keyNode : resolve(ctx, host!.value), `host volume \`${name}\` needs an absolute \`path:\` on the host`);
    return undefined;
  }
  return { name, host: { path } };
}
