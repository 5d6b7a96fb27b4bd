// Build parameters from a query string, as Drone's create build and promote read them:
// every query parameter the endpoint does not read itself becomes one. They reach steps as
// variables, so each must be a variable name; a name given twice is refused rather than
// one of its values picked.
import type { Request } from 'express';
import { badRequest } from '../http/errors.ts';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_PARAMS = 100;
const MAX_VALUE_CHARS = 10_000;

export function buildParams(query: Request['query'], reserved: readonly string[]): Record<string, string> {
  const entries = Object.entries(query).filter(([name]) => !reserved.includes(name));
  if (entries.length > MAX_PARAMS) throw badRequest(`${entries.length} build parameters in the query; at most ${MAX_PARAMS} are allowed`);
  const params: [string, string][] = [];
  for (const [name, value] of entries) {
    if (!NAME.test(name)) throw badRequest(`build parameter "${name}": not a variable name; use letters, digits and _, not starting with a digit`);
    if (typeof value !== 'string') throw badRequest(`build parameter ${name} is given more than once; give each parameter once`);
    if (value.length > MAX_VALUE_CHARS) throw badRequest(`build parameter ${name} is ${value.length} characters long; at most ${MAX_VALUE_CHARS} are allowed`);
    params.push([name, value]);
  }
  // fromEntries defines own properties, so a parameter named __proto__ stays a parameter.
  return Object.fromEntries(params);
}
