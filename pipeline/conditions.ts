// Whether a build matches a `trigger:` or `when:` block, with Drone's semantics:
// every condition written must match; a value matches a condition when it matches
// an include pattern (or there are none) and no exclude pattern.

import { GlobBudget, pathGlobMatch } from './glob-match.ts';
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

/**
 * True when `value` matches the glob `pattern` as Drone matches conditions (doublestar:
 * `*` within a path segment, `**` across segments, dotfiles not special), in time linear
 * in the value (pipeline/glob-match.ts); `budget` bounds the steps of one evaluation.
 */
export function globMatch(pattern: string, value: string, budget?: GlobBudget): boolean {
  return pathGlobMatch(pattern, value, budget);
}

/** An absent condition matches everything. */
export function matchCondition(cond: Condition | undefined, value: string, budget?: GlobBudget): boolean {
  if (!cond) return true;
  if (cond.exclude.some((p) => globMatch(p, value, budget))) return false;
  return cond.include.length === 0 || cond.include.some((p) => globMatch(p, value, budget));
}

/**
 * `paths` looks at every changed file: it matches when some file is not excluded
 * and (when there are includes) matches an include. Unknown changes match, so a
 * provider that did not list files never silently skips a pipeline; so does a
 * change listing no files at all (an empty commit).
 */
export function matchPaths(cond: Condition | undefined, files: string[] | undefined, budget?: GlobBudget): boolean {
  if (!cond || files === undefined || files.length === 0) return true;
  if (cond.include.length === 0 && cond.exclude.length === 0) return true;
  return files.some(
    (f) =>
      !cond.exclude.some((p) => globMatch(p, f, budget)) && (cond.include.length === 0 || cond.include.some((p) => globMatch(p, f, budget))),
  );
}

/**
 * Whether every condition matches. All the patterns of one call share one step budget,
 * so a file of many costly patterns is refused (GlobMatchTooCostly) instead of stalling.
 */
export function matchConditions(conds: Conditions, facts: MatchFacts, budget: GlobBudget = new GlobBudget()): boolean {
  return (
    matchCondition(conds.branch, facts.branch, budget) &&
    matchCondition(conds.event, facts.event, budget) &&
    matchCondition(conds.ref, facts.ref, budget) &&
    matchCondition(conds.target, facts.target, budget) &&
    matchCondition(conds.cron, facts.cron, budget) &&
    matchCondition(conds.action, facts.action, budget) &&
    matchCondition(conds.repo, facts.repo, budget) &&
    matchCondition(conds.instance, facts.instance, budget) &&
    matchCondition(conds.status, facts.status, budget) &&
    matchPaths(conds.paths, facts.changedFiles, budget)
  );
}
