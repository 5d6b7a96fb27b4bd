// Overlap proven by what happened, not by clocks: two steps that share a workspace each
// leave a mark and then wait for the other's. Run one after the other, the first would
// wait for a mark that can only come after it ends, and fail by its own bound; run at
// the same time, both go on. A busy machine only makes them wait longer.

/** How long a step waits for its partner before it fails, in tenths of a second. */
const PATIENCE_TENTHS = 450;

/**
 * Shell commands (POSIX sh, busybox included) for a step named `me` that must be running
 * while `partner` runs. Paths are relative to the step's working directory (the workspace).
 */
export function meetCommands(me: string, partner: string): string[] {
  return [
    `touch ${me}.arrived`,
    `i=0; until [ -f ${partner}.arrived ]; do i=$((i+1)); if [ $i -gt ${PATIENCE_TENTHS} ]; then echo "${partner} never ran while ${me} ran"; exit 1; fi; sleep 0.1; done`,
    `echo met ${partner}`,
    `touch ${me}.done`,
  ];
}

/** Commands for a step that must start only after every one of `steps` has finished. */
export function afterCommands(steps: string[]): string[] {
  return [...steps.map((s) => `test -f ${s}.done || { echo "${s} had not finished"; exit 1; }`), 'echo all finished before me'];
}
