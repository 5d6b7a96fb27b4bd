// Which steps a step waits for, as Drone orders them: when no step names `depends_on`
// the steps run one after another in file order; once any does, the pipeline is a graph
// and a step without `depends_on` starts right away.
import type { PlanStep } from '../pipeline/types.ts';

/** Dependencies by step name. Names that are not steps of the plan (skipped by `when`) count as met. */
export function stepDependencies(steps: PlanStep[]): Map<string, string[]> {
  const names = new Set(steps.map((s) => s.name));
  const graph = steps.some((s) => s.dependsOn.length > 0);
  const deps = new Map<string, string[]>();
  steps.forEach((step, i) => {
    if (graph) deps.set(step.name, step.dependsOn.filter((d) => names.has(d)));
    else deps.set(step.name, i === 0 ? [] : [steps[i - 1].name]);
  });
  return deps;
}
