// What the server asks of its pipeline thread, and what comes back.
import type { CheckResult, MatchFacts, SubstitutionInput } from '../../pipeline/index.ts';
import type { Conditions, ParseResult } from '../../pipeline/types.ts';

/**
 * `facts`: the build whose facts are substituted into the file first, as the runner does
 * (pipeline/lint.ts checkBuildFile); null for a file no build reads yet (a proposal being saved).
 */
export type PipelineJob =
  | { op: 'check'; config: string; trusted: boolean; facts: SubstitutionInput | null }
  | { op: 'parse'; config: string; facts: SubstitutionInput }
  | { op: 'match'; conditions: Conditions[]; facts: MatchFacts };

export interface CheckAnswer {
  checked: CheckResult;
  /** Whether some trigger or `when` has a `paths` condition, so the changed files are worth asking for. */
  usesPaths: boolean;
}

export type PipelineJobResult = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string };

export type { ParseResult };
