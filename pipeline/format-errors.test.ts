import { expect, it } from 'vitest';
import { formatPipelineErrors } from './format-errors.ts';

it('prints each error as FILE:LINE:COL message, one per line', () => {
  expect(formatPipelineErrors('.drone.yml', [{ line: 3, col: 5, message: 'unknown key' }, { line: 9, col: 1, message: 'bad' }])).toBe(
    '.drone.yml:3:5 unknown key\n.drone.yml:9:1 bad',
  );
});

it('says how many more there are beyond the maximum shown', () => {
  const errors = [1, 2, 3].map((line) => ({ line, col: 1, message: 'x' }));
  expect(formatPipelineErrors('f', errors, 2)).toBe('f:1:1 x\nf:2:1 x\nand 1 more');
});
