// Validation of what runners send, matching the types in core/protocol.ts.
import { z } from 'zod';
import { STATUSES } from '../../core/domain.ts';

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
});

export const acceptSchema = z.object({ machine: z.string().min(1).max(255) });

const status = z.enum(STATUSES);
const seconds = z.number().int().min(0);

export const stageUpdateSchema = z.object({
  status,
  error: z.string().max(10_000).optional(),
  exit_code: z.number().int().optional(),
  started: seconds.optional(),
  stopped: seconds.optional(),
});

export const stepUpdateSchema = stageUpdateSchema;

export const logBatchSchema = z
  .array(z.object({ pos: z.number().int().min(0), out: z.string(), time: z.number().min(0) }))
  .max(50_000);
