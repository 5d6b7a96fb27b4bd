// A build runs only the pipelines whose trigger matched, so a `depends_on` may name one
// that is not in the build (a `paths` or `branch` trigger left it out). As Drone's trigger
// does, such a dependency is replaced by what the left-out pipeline itself depended on,
// up the graph, so the chain holds and no stage waits for a stage that never comes.
import type { Pipeline } from '../../pipeline/types.ts';

/** The dependencies of `pipeline` among the `kept` ones, looking through left-out pipelines. */
export function keptDependencies(pipeline: Pipeline, all: Pipeline[], kept: Set<string>): string[] {
  const byName = new Map(all.map((p) => [p.name, p]));
  const out = new Set<string>();
  const seen = new Set<string>();
  const visit = (names: string[]) => {
    for (const name of names) {
      if (seen.has(name)) continue;
      seen.add(name);
      if (kept.has(name)) out.add(name);
      else visit(byName.get(name)?.dependsOn ?? []);
    }
  };
  visit(pipeline.dependsOn);
  return [...out];
}
