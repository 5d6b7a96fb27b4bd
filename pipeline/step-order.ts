// The order steps run in, as Drone orders them, made explicit for the runner:
// without any depends_on, steps run one after another in file order; with any,
// the pipeline is a graph. Services start before every step and the clone
// happens before anything runs, so neither appears as a dependency.

export interface OrderedStep {
  name: string;
  dependsOn: string[];
  /** Left out of the plan by `when`: steps that waited for it wait for what it waited for. */
  skipped: boolean;
}

/** Dependencies by step name, over steps only (no services), skipped steps bridged over. */
export function stepOrder(steps: OrderedStep[], anyDependsOn: boolean): Map<string, string[]> {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const written = new Map<string, string[]>();
  steps.forEach((s, i) => {
    const deps = anyDependsOn ? s.dependsOn : i > 0 ? [steps[i - 1].name] : [];
    written.set(s.name, deps.filter((d) => byName.has(d) && d !== s.name));
  });
  const effective = new Map<string, string[]>();
  const resolve = (name: string, visiting: Set<string>): string[] => {
    if (visiting.has(name)) return []; // a cycle, which the linter reports; do not loop on it
    visiting.add(name);
    const out: string[] = [];
    for (const dep of written.get(name) ?? []) {
      for (const d of byName.get(dep)!.skipped ? resolve(dep, visiting) : [dep]) {
        if (!out.includes(d)) out.push(d);
      }
    }
    visiting.delete(name);
    return out;
  };
  for (const s of steps) if (!s.skipped) effective.set(s.name, resolve(s.name, new Set()));
  return effective;
}
