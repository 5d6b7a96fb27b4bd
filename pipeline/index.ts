// The pipeline engine's public surface. Everything here is pure: no I/O, no clock.

export type * from './types.ts';
export { parsePipelines, sortErrors } from './parse.ts';
export { checkBuildFile, checkPipelines, lintPipelines, parseBuildFile, type CheckResult, type LintOptions } from './lint.ts';
export { globMatch, matchCondition, matchConditions, matchPaths, type MatchFacts } from './conditions.ts';
export { CLONE_STEP_NAME, stageSteps, type RecordedStep } from './stage-steps.ts';
export { failedSoFar, readyStages, runsAfter, type ReadinessStage } from './stage-readiness.ts';
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
export {
  baseEnvironment,
  buildFacts,
  compileStage,
  DRONE_PRIVILEGED_IMAGES,
  imageName,
  LABEL_BUILD,
  LABEL_MANAGED,
  LABEL_REPO,
  LABEL_STAGE,
  LABEL_STEP,
  planLabels,
  runOnOf,
  safeName,
} from './compile.ts';
export { substitutePipelineFile, substituteVariables, substitutionEnvironment, type SubstituteResult, type SubstitutionInput } from './substitute.ts';
export { shellQuote, shellScript } from './step-script.ts';
export { encodeSetting, pluginEnvName, settingsEnv } from './plugin-settings.ts';
export { normalizeImage } from './image.ts';
export { parseDuration } from './duration.ts';
export { formatPipelineErrors, pipelineLocation } from './format-errors.ts';
