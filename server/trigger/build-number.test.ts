import { describe, expect, it } from 'vitest';
import { build, repo, system } from '../../pipeline/testdata/fixtures.ts';
import { BuildNumberTaken, checkReadsTheSame, retryingTakenNumbers } from './build-number.ts';

const facts = { build, repo, system };

describe('checkReadsTheSame', () => {
  it('accepts the number the file was read for, and another one the file does not depend on', () => {
    const file = 'steps:\n- name: test-${DRONE_BRANCH}\n';
    expect(() => checkReadsTheSame(file, facts, build.number)).not.toThrow();
    expect(() => checkReadsTheSame(file, facts, build.number + 1)).not.toThrow();
  });

  it('refuses another number when the file reads differently with it, by its number or its link', () => {
    for (const file of ['steps:\n- name: test-${DRONE_BUILD_NUMBER}\n', 'image: x\n# ${DRONE_BUILD_LINK}\n']) {
      expect(() => checkReadsTheSame(file, facts, build.number + 1)).toThrow(BuildNumberTaken);
    }
  });
});

describe('retryingTakenNumbers', () => {
  it('makes the build again while its number is taken, and gives up after a few tries', async () => {
    let tries = 0;
    expect(await retryingTakenNumbers(async () => (++tries < 3 ? Promise.reject(new BuildNumberTaken('taken')) : tries))).toBe(3);
    tries = 0;
    await expect(retryingTakenNumbers(async () => Promise.reject(new BuildNumberTaken(`taken ${++tries}`)))).rejects.toThrow('taken 5');
    await expect(retryingTakenNumbers(async () => Promise.reject(new Error('other')))).rejects.toThrow('other');
  });
});
