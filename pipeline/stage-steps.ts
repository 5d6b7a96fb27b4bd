// The steps the server records for a stage when it creates a build, and the
// numbering the runner's plan uses for the same steps: clone first (unless
// disabled), then services, then steps, numbered from 1 in that order.

import type { Pipeline } from './types.ts';

export const CLONE_STEP_NAME = 'clone';

export interface RecordedStep {
  number: number;
  name: string;
  /** Empty for the clone, which the runner does on its host, not in a container. */
  image: string;
  /** Services and `detach: true` steps run in the background. */
  detached: boolean;
  /** As written in the file. */
  dependsOn: string[];
  /** `failure: ignore`: the stage goes on when this step fails. */
  errignore: boolean;
}

export function stageSteps(pipeline: Pipeline): RecordedStep[] {
  const out: RecordedStep[] = [];
  const add = (step: Omit<RecordedStep, 'number'>) => out.push({ number: out.length + 1, ...step });
  if (!pipeline.clone.disable) {
    add({ name: CLONE_STEP_NAME, image: '', detached: false, dependsOn: [], errignore: false });
  }
  for (const s of pipeline.services) {
    add({ name: s.name, image: s.image, detached: true, dependsOn: [...s.dependsOn], errignore: s.failure === 'ignore' });
  }
  for (const s of pipeline.steps) {
    add({ name: s.name, image: s.image, detached: s.detach, dependsOn: [...s.dependsOn], errignore: s.failure === 'ignore' });
  }
  return out;
}
