// Request bodies and queries checked with zod; a failure is a 400 that names the field.
import type { z } from 'zod';
import { badRequest } from '../http/errors.ts';

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'request body'): z.infer<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.join('.');
    return field ? `${field}: ${issue.message}` : issue.message;
  });
  throw badRequest(`invalid ${what}: ${problems.join('; ')}`);
}
