// Whether a build matches a `trigger:` or `when:` block, with Drone's semantics:
// every condition written must match; a value matches a condition when it matches
// an include pattern (or there are none) and no exclude pattern.

import picomatch from 'picomatch';
import type { Condition, Conditions } from './types.ts';

/** What is known about a build when its conditions are evaluated. */
export interface MatchFacts {
  /** The branch: pushed to, or targeted by a pull request; empty for tags. */
  branch: string;
  /** push, pull_request, tag, promote, rollback, cron, custom. */
  event: string;
  ref: string;
  /** The promotion target (Drone's deploy_to); empty unless promoting. */
  target: string;
  /** Name of the cron job that started the build; empty otherwise. */
  cron: string;
  /** Pull request action (opened, synchronized, ...); empty otherwise. */
  action: string;
  /** owner/name of the repository. */
  repo: string;
  /** Host name of this Harrier server. */
  instance: string;
  /** Outcome so far, for `status`: failure once anything before has failed. */
  status: 'success' | 'failure';
  /** Files the change touched; undefined when the provider did not say (or truncated the list). */
  changedFiles?: string[];
}

// Drone matches with doublestar: `*` stays within one path segment, `**` crosses
// segments, and dotfiles are not special. picomatch with `dot` behaves the same;
// `nonegate` because Drone gives no meaning to a leading `!`.
const GLOB_OPTIONS: picomatch.PicomatchOptions = { dot: true, nonegate: true };
const matchers = new Map<string, (value: string) => boolean>();

/** True when `value` matches the glob `pattern` as Drone matches conditions. */
export function globMatch(pattern: string, value: string): boolean {
  let matcher = matchers.get(pattern);
  if (!matcher) {
    matcher = picomatch(pattern, GLOB_OPTIONS);
    matchers.set(pattern, matcher);
  }
  return matcher(value);
}

/** An absent condition matches everything. */
export function matchCondition(cond: Condition | undefined, value: string): boolean {
  if (!cond) return true;
  if (cond.exclude.some((p) => globMatch(p, value))) return false;
  return cond.include.length === 0 || cond.include.some((p) => globMatch(p, value));
}

/**
 * `paths` looks at every changed file: it matches when some file is not excluded
 * and (when there are includes) matches an include. Unknown changes match, so a
 * provider that did not list files never silently skips a pipeline; so does a
 * change listing no files at all (an empty commit).
 */
export function matchPaths(cond: Condition | undefined, files: string[] | undefined): boolean {
  if (!cond || files === undefined || files.length === 0) return true;
  if (cond.include.length === 0 && cond.exclude.length === 0) return true;
  return files.some(
    (f) => !cond.exclude.some((p) => globMatch(p, f)) && (cond.include.length === 0 || cond.include.some((p) => globMatch(p, f))),
  );
}

export function matchConditions(conds: Conditions, facts: MatchFacts): boolean {
  return (
    matchCondition(conds.branch, facts.branch) &&
    matchCondition(conds.event, facts.event) &&
    matchCondition(conds.ref, facts.ref) &&
    matchCondition(conds.target, facts.target) &&
    matchCondition(conds.cron, facts.cron) &&
    matchCondition(conds.action, facts.action) &&
    matchCondition(conds.repo, facts.repo) &&
    matchCondition(conds.instance, facts.instance) &&
    matchCondition(conds.status, facts.status) &&
    matchPaths(conds.paths, facts.changedFiles)
  );
}
