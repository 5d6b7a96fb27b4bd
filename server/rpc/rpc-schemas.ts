// Validation of what runners send; each schema is checked against its type in
// core/protocol.ts, so the contract cannot drift from what the server accepts.
import { z } from 'zod';
import { parseInput } from '../api/body-validation.ts';
import type { LogLine } from '../../core/domain.ts';
import { STATUSES } from '../../core/domain.ts';
import { type AcceptRequest, type LogBatch, type LogColumns, linesOf, type RunnerInfo, type StageUpdate, type StepUpdate } from '../../core/protocol.ts';

export const runnerInfoSchema = z.object({
  name: z.string().min(1).max(255),
  labels: z.record(z.string(), z.string()).default({}),
  capacity: z.number().int().min(0).default(1),
  running: z.array(z.number().int()).default([]),
  os: z.string().default(''),
  arch: z.string().default(''),
  version: z.string().default(''),
  instance: z.string().max(255).optional(),
  sick: z.string().max(2_000).optional(),
  stopping: z.boolean().optional(),
}) satisfies z.ZodType<RunnerInfo>;

export const acceptSchema = z.object({
  machine: z.string().min(1).max(255),
  token: z
    .string({ message: 'the stage token is missing: the runner sends 32 random bytes, base64url, and the same token on every call about the stage' })
    .regex(/^[A-Za-z0-9_-]{32,128}$/, 'must be 32 to 128 characters of A-Z a-z 0-9 _ - (32 random bytes, base64url)'),
}) satisfies z.ZodType<AcceptRequest>;

const status = z.enum(STATUSES);
const seconds = z.number().int().min(0);

export const stageUpdateSchema = z.object({
  status,
  error: z.string().max(10_000).optional(),
  exit_code: z.number().int().optional(),
  started: seconds.optional(),
  stopped: seconds.optional(),
}) satisfies z.ZodType<StageUpdate>;

export const stepUpdateSchema = stageUpdateSchema.extend({ log_cut: z.boolean().optional() }) satisfies z.ZodType<StepUpdate>;

const MAX_BATCH_LINES = 50_000;

const logLinesSchema = z.array(z.object({ pos: z.number().int().min(0), out: z.string(), time: z.number().min(0) })).max(MAX_BATCH_LINES);

const logColumnsSchema = z
  .object({ first: z.number().int().min(0), out: z.array(z.string()).max(MAX_BATCH_LINES), time: z.array(z.number().min(0)).max(MAX_BATCH_LINES) })
  .refine((c) => c.out.length === c.time.length, { message: 'out and time must have one entry per line each' });

export const logBatchSchema = z.union([logLinesSchema, logColumnsSchema]) satisfies z.ZodType<LogBatch>;

/**
 * A runner's log batch, checked by hand: a loud step sends a million lines, and zod's
 * check (a copy of every line) cost the server a quarter of a second of CPU per million.
 * Only a batch that fails goes through logBatchSchema, for zod's own account of what is wrong.
 */
export function parseLogBatch(body: unknown): LogLine[] {
  const lines = Array.isArray(body) ? checkedLines(body) : checkedColumns(body);
  return lines ?? linesOf(parseInput(logBatchSchema, body, 'log batch'));
}

const validTime = (time: unknown): time is number => typeof time === 'number' && time >= 0 && time !== Infinity;

function checkedLines(body: unknown[]): LogLine[] | undefined {
  if (body.length > MAX_BATCH_LINES) return undefined;
  const lines = new Array<LogLine>(body.length);
  for (let i = 0; i < body.length; i++) {
    const line = body[i] as Partial<LogLine> | null;
    if (typeof line !== 'object' || line === null || !Number.isSafeInteger(line.pos) || line.pos! < 0 || typeof line.out !== 'string' || !validTime(line.time)) return undefined;
    lines[i] = { pos: line.pos!, out: line.out, time: line.time };
  }
  return lines;
}

function checkedColumns(body: unknown): LogLine[] | undefined {
  const c = body as Partial<LogColumns> | null;
  if (typeof c !== 'object' || c === null || !Number.isSafeInteger(c.first) || c.first! < 0 || !Array.isArray(c.out) || !Array.isArray(c.time)) return undefined;
  const { first, out, time } = c as LogColumns;
  if (out.length !== time.length || out.length > MAX_BATCH_LINES) return undefined;
  const lines = new Array<LogLine>(out.length);
  for (let i = 0; i < out.length; i++) {
    if (typeof out[i] !== 'string' || !validTime(time[i])) return undefined;
    lines[i] = { pos: first + i, out: out[i], time: time[i] };
  }
  return lines;
}
