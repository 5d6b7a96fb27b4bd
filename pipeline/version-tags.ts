// DRONE_SEMVER_* and DRONE_CALVER_* for tag builds: release steps read the parts
// of a version tag (`v1.2.3-rc.1+build.5`) from these instead of parsing it.

type Env = Record<string, string>;

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

/** Semantic version variables of a tag; an unparseable tag gets DRONE_SEMVER_ERROR, as in Drone. */
export function semverEnviron(tag: string): Env {
  const version = tag.replace(/^v/, '');
  const m = SEMVER.exec(version);
  if (!m) return { DRONE_SEMVER_ERROR: `${version} is not in dotted-tri format` };
  const [, major, minor, patch, prerelease, build] = m;
  const short = `${major}.${minor}.${patch}`;
  const env: Env = {
    DRONE_SEMVER: version,
    DRONE_SEMVER_MAJOR: major,
    DRONE_SEMVER_MINOR: minor,
    DRONE_SEMVER_PATCH: patch,
    DRONE_SEMVER_SHORT: short,
  };
  if (prerelease) env.DRONE_SEMVER_PRERELEASE = prerelease;
  if (build) env.DRONE_SEMVER_BUILD = build;
  return env;
}

/** Calendar version variables (`2024.03.1`, `24.3-beta`), only when the first part is a plausible year. */
export function calverEnviron(tag: string): Env {
  const parts = tag.replace(/^v/, '').split('.');
  if (parts.length < 2) return {};
  const [major, minor] = parts;
  let micro = parts.slice(2).join('.');
  let modifier = '';
  const dash = micro.indexOf('-');
  if (dash >= 0) {
    modifier = micro.slice(dash + 1);
    micro = micro.slice(0, dash);
  }
  if (!/^\d+$/.test(major) || !/^\d+$/.test(minor) || !isYear(Number(major))) return {};
  const short = micro ? `${major}.${minor}.${micro}` : `${major}.${minor}`;
  const env: Env = {
    DRONE_CALVER: modifier ? `${short}-${modifier}` : short,
    DRONE_CALVER_SHORT: short,
    DRONE_CALVER_MAJOR_MINOR: `${major}.${minor}`,
    DRONE_CALVER_MAJOR: major,
    DRONE_CALVER_MINOR: minor,
    DRONE_CALVER_MICRO: micro,
  };
  if (modifier) env.DRONE_CALVER_MODIFIER = modifier;
  return env;
}

/** Drone's rule: two-digit years from 19, four-digit years from 2019. */
function isYear(n: number): boolean {
  return (n > 18 && n < 100) || (n > 2018 && n < 9999);
}
