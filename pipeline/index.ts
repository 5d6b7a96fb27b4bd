// The pipeline engine's public surface. Everything here is pure: no I/O, no clock.

export type * from './types.ts';
export { parsePipelines } from './parse.ts';
export { checkPipelines, lintPipelines, type CheckResult, type LintOptions } from './lint.ts';
export { globMatch, matchCondition, matchConditions, matchPaths, type MatchFacts } from './conditions.ts';
export { CLONE_STEP_NAME, stageSteps, type RecordedStep } from './stage-steps.ts';
export {
  buildEnviron,
  failureEnviron,
  linkEnviron,
  repoEnviron,
  stageEnviron,
  stageEnvironment,
  stepEnviron,
  systemEnviron,
  workspaceEnviron,
  type Env,
  type EnvironInput,
} from './environ.ts';
export { normalizeImage } from './image.ts';
export { parseDuration } from './duration.ts';
