// A lane is where a pending stage waits: one per repository and label set (platform and
// `node` labels). Dispatch reads the head of each lane a runner may serve, so its cost
// follows the number of lanes with work, never the number of waiting stages, and a lane
// whose labels no runner has blocks no other. Stored in Stage.lane as text:
// "<repoId> <label set as JSON, keys sorted>".
import type { RunnerInfo } from '../../core/protocol.ts';

export interface LabelSet {
  os: string;
  arch: string;
  labels: Record<string, string>;
}

export interface Lane extends LabelSet {
  repoId: number;
  /** The label set alone, the same for every repository: metrics and /api/queue group by it. */
  key: string;
}

/** The label set's canonical text: equal sets give equal text whatever the order they were written in. */
export function labelSetKey(set: LabelSet): string {
  const labels = Object.fromEntries(Object.entries(set.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return JSON.stringify({ os: set.os, arch: set.arch, labels });
}

/** The label set of a stage row (labels as stored, JSON text; unreadable labels count as none). */
export function labelSetOf(stage: { os: string; arch: string; labels: string }): LabelSet {
  return { os: stage.os, arch: stage.arch, labels: parseLabels(stage.labels) };
}

/** The lane of a stage row. */
export function laneOf(stage: { repoId: number; os: string; arch: string; labels: string }): string {
  return `${stage.repoId} ${labelSetKey(labelSetOf(stage))}`;
}

export function parseLane(lane: string): Lane | undefined {
  const space = lane.indexOf(' ');
  const repoId = Number(lane.slice(0, space));
  if (space <= 0 || !Number.isInteger(repoId)) return undefined;
  const key = lane.slice(space + 1);
  try {
    const set = JSON.parse(key) as LabelSet;
    return { repoId, key, os: String(set.os ?? ''), arch: String(set.arch ?? ''), labels: set.labels ?? {} };
  } catch {
    return undefined;
  }
}

/** Whether a runner may take a stage: same platform where the stage names one, and every stage label present on the runner. */
export function runnerMatches(set: LabelSet, runner: Pick<RunnerInfo, 'os' | 'arch' | 'labels'>): boolean {
  if (set.os && runner.os && set.os !== runner.os) return false;
  if (set.arch && runner.arch && set.arch !== runner.arch) return false;
  return Object.entries(set.labels).every(([k, v]) => runner.labels[k] === v);
}

function parseLabels(text: string): Record<string, string> {
  try {
    const labels = JSON.parse(text) as unknown;
    return labels && typeof labels === 'object' && !Array.isArray(labels) ? (labels as Record<string, string>) : {};
  } catch {
    return {};
  }
}
