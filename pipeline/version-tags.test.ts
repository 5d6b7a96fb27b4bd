import { describe, expect, it } from 'vitest';
import { calverEnviron, semverEnviron } from './version-tags.ts';

describe('semverEnviron', () => {
  it('splits a plain version with or without a leading v', () => {
    for (const tag of ['1.4.0', 'v1.4.0']) {
      expect(semverEnviron(tag)).toEqual({
        DRONE_SEMVER: '1.4.0',
        DRONE_SEMVER_MAJOR: '1',
        DRONE_SEMVER_MINOR: '4',
        DRONE_SEMVER_PATCH: '0',
        DRONE_SEMVER_SHORT: '1.4.0',
      });
    }
  });

  it('rejects a version without three parts', () => {
    expect(semverEnviron('v1.4')).toEqual({ DRONE_SEMVER_ERROR: '1.4 is not in dotted-tri format' });
  });
});

describe('calverEnviron', () => {
  it('reads a two-digit year version', () => {
    expect(calverEnviron('24.3')).toMatchObject({ DRONE_CALVER: '24.3', DRONE_CALVER_MAJOR: '24', DRONE_CALVER_MINOR: '3', DRONE_CALVER_MICRO: '' });
  });

  it('gives nothing for versions whose major part is not a year', () => {
    expect(calverEnviron('1.2.3')).toEqual({});
    expect(calverEnviron('release')).toEqual({});
  });
});
