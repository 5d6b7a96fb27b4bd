// What the server asks of its pipeline thread, and what comes back.
import type { CheckResult, MatchFacts } from '../../pipeline/index.ts';
import type { Conditions, ParseResult } from '../../pipeline/types.ts';

export type PipelineJob =
  | { op: 'check'; config: string; trusted: boolean }
  | { op: 'parse'; config: string }
  | { op: 'match'; conditions: Conditions[]; facts: MatchFacts };

export interface CheckAnswer {
  checked: CheckResult;
  /** Whether some trigger or `when` has a `paths` condition, so the changed files are worth asking for. */
  usesPaths: boolean;
}

export type PipelineJobResult = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string };

export type { ParseResult };
