// Why a stage that has not started is waiting, in words for the build page:
// the runners the server heard from within the last minute, matched against the
// stage as the queue matches them (runnerMatches), or the pipelines it depends on.
import { isDone, type Status } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import type { Stage as StageRow } from '../db/generated/sqlite/client.ts';
import { runnerMatches } from '../queue/lanes.ts';
import { isBusy, knownRunners, type KnownRunner } from '../runners/known-runners.ts';

export type WaitingStage = Pick<StageRow, 'id' | 'name' | 'status' | 'machine' | 'os' | 'arch' | 'labels' | 'dependsOn'>;

function parse<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

const plural = (n: number, word: string) => `${word}${n === 1 ? '' : 's'}`;

/** Why each waiting stage of one build waits, by stage id; stages that are not waiting are absent. */
export async function waitingReasons(ctx: ServerContext, stages: WaitingStage[]): Promise<Map<number, string>> {
  const reasons = new Map<number, string>();
  let runners: KnownRunner[] | undefined;
  for (const stage of stages) {
    if (stage.status === 'blocked') {
      reasons.set(stage.id, 'waiting for approval by a user with write permission');
    } else if (stage.status === 'waiting_on_dependencies') {
      reasons.set(stage.id, dependencyReason(stage, stages));
    } else if (stage.status === 'pending') {
      if (stage.machine) {
        reasons.set(stage.id, `starting on ${stage.machine}`);
        continue;
      }
      runners ??= (await knownRunners(ctx)).filter((r) => r.online);
      reasons.set(stage.id, runnerReason(stage, runners));
    }
  }
  return reasons;
}

export function dependencyReason(stage: WaitingStage, build: WaitingStage[]): string {
  const names = parse<string[]>(stage.dependsOn, []);
  const unfinished = names.filter((name) => {
    const dep = build.find((s) => s.name === name);
    return !dep || !isDone(dep.status as Status);
  });
  const shown = unfinished.length ? unfinished : names;
  return `waiting for ${plural(shown.length, 'pipeline')} ${shown.join(', ')}`;
}

/** `online` are the runners heard from within the last minute. */
export function runnerReason(stage: WaitingStage, online: KnownRunner[]): string {
  if (online.length === 0) return 'no runner is connected';
  const labels = parse<Record<string, string>>(stage.labels, {});
  const job = { os: stage.os, arch: stage.arch, labels };
  const matching = online.filter((r) => runnerMatches(job, r));
  if (matching.length === 0) {
    const wanted = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(', ');
    const labelled = online.filter((r) => runnerMatches({ os: '', arch: '', labels }, r));
    if (wanted && labelled.length === 0) return `no runner has labels ${wanted}`;
    const platform = [stage.os, stage.arch].filter(Boolean).join('/');
    return `no runner runs on ${platform}${wanted ? ` with labels ${wanted}` : ''}`;
  }
  const able = matching.filter((r) => !r.sick && !r.stopping);
  if (able.length === 0) {
    const [first] = matching;
    if (matching.length === 1) return first.sick ? `the only matching runner, ${first.name}, is sick: ${first.sick}` : `the only matching runner, ${first.name}, is stopping`;
    return `all ${matching.length} matching runners are sick or stopping`;
  }
  if (able.every(isBusy)) {
    return able.length === 1 ? `the only matching runner, ${able[0].name}, is busy` : `all ${able.length} matching runners are busy`;
  }
  return 'queued for a matching runner with a free slot';
}
