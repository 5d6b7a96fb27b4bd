// Validation of what runners send; each schema is checked against its type in
// core/protocol.ts, so the contract cannot drift from what the server accepts.
import { z } from 'zod';
import type { LogLine } from '../../core/domain.ts';
import { STATUSES } from '../../core/domain.ts';
import type { AcceptRequest, RunnerInfo, StageUpdate, StepUpdate } from '../../core/protocol.ts';

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

export const logBatchSchema = z
  .array(z.object({ pos: z.number().int().min(0), out: z.string(), time: z.number().min(0) }))
  .max(50_000) satisfies z.ZodType<LogLine[]>;
