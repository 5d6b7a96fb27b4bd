import { describe, expect, it } from 'vitest';
import { closest, didYouMean, editDistance } from './suggest.ts';

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('image', 'imag')).toBe(1);
    expect(editDistance('image', 'imago')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('counts a swap of neighbouring letters as one edit', () => {
    expect(editDistance('biuld', 'build')).toBe(1);
  });
});

describe('closest', () => {
  it('suggests a key one typo away', () => {
    expect(closest('comands', ['command', 'commands', 'image'])).toBe('commands');
  });

  it('suggests the singular for a plural and ignores - and _', () => {
    expect(closest('branches', ['branch', 'event'])).toBe('branch');
    expect(closest('dependson', ['depends_on'])).toBe('depends_on');
  });

  it('suggests nothing for a word far from every candidate', () => {
    expect(closest('zzz', ['image', 'name'])).toBeUndefined();
    expect(didYouMean('zzz', ['image'])).toBe('');
  });
});
