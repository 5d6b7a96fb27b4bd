import fs from 'node:fs';
import { expect, it } from 'vitest';
import { checkPipelines } from '../../pipeline/index.ts';

it('.drone.yml.example is a valid pipeline with no warnings', () => {
  const text = fs.readFileSync(new URL('../../.drone.yml.example', import.meta.url), 'utf8');
  const result = checkPipelines(text, { trusted: false });
  expect(result.ok ? [] : result.errors).toEqual([]);
  expect(result.ok && result.warnings).toEqual([]);
});
