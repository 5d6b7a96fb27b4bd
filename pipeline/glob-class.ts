// A bracket expression of a glob, `[a-z_]` or `[!0-9]` (`^` as well as `!`), read once and
// shared by both glob matchers: conditions' path globs and substitutions' shell globs.

export interface GlobClass {
  negate: boolean;
  ranges: [string, string][];
}

/** The class whose text between the brackets is `body`. */
export function parseGlobClass(body: string): GlobClass {
  const negate = body.startsWith('!') || body.startsWith('^');
  const members = negate ? body.slice(1) : body;
  const ranges: [string, string][] = [];
  for (let j = 0; j < members.length; j++) {
    if (members[j + 1] === '-' && j + 2 < members.length) {
      ranges.push([members[j], members[j + 2]]);
      j += 2;
    } else ranges.push([members[j], members[j]]);
  }
  return { negate, ranges };
}

export function inGlobClass(cls: GlobClass, c: string): boolean {
  return cls.ranges.some(([lo, hi]) => lo <= c && c <= hi) !== cls.negate;
}
