// Labels on every container, network and volume Harrier creates, so it can find its own
// objects again: to clean up one stage, or what a crashed runner left behind.

/** "true" on everything Harrier made. */
export const LABEL_MANAGED = 'io.harrier.managed';
/** The name of the runner that made it. */
export const LABEL_RUNNER = 'io.harrier.runner';
/** The plan (stage run) it belongs to; the plan's network id, unique per run. */
export const LABEL_PLAN = 'io.harrier.plan';

/** Docker's `label` filter values for a set of labels; several are ANDed by the engine. */
export function labelFilters(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([key, value]) => `${key}=${value}`);
}
