// "Did you mean" hints for misspelt keys and names: a typo in `.drone.yml` should
// point at the word the user meant, not only say that theirs is unknown.

/**
 * Edit distance counting a swap of two neighbouring letters as one edit (optimal
 * string alignment): `biuld` is one slip away from `build`, as a typist sees it.
 * Past `max` the exact figure does not matter: the answer is then some value above `max`,
 * found without filling the whole table.
 */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let row = new Array<number>(b.length + 1).fill(0);
  let previousSmallest = 0;
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    let smallest = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j], before[j - 2] + 1);
      smallest = Math.min(smallest, row[j]);
    }
    // A cell comes from the row above or, by a swap, the one above that: once two rows in
    // a row are past `max`, every later one is too.
    if (smallest > max && previousSmallest > max) return max + 1;
    previousSmallest = smallest;
    [before, previous, row] = [previous, row, before];
  }
  return previous[b.length];
}

const normalised = new WeakMap<readonly string[], string[]>();
const norm = (s: string) => s.toLowerCase().replace(/[-_ ]/g, '').replace(/s$/, '');

/**
 * The candidate closest to `word`, when close enough to be a plausible typo
 * (a third of the word's length, at least 1, at most 3 edits), or a candidate
 * that differs only by a plural `s` / separator, which users often get wrong.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let normal = normalised.get(candidates);
  if (!normal) {
    normal = candidates.map(norm);
    normalised.set(candidates, normal);
  }
  const target = norm(word);
  const same = normal.indexOf(target);
  if (same !== -1) return candidates[same];
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase(), bestDistance - 1);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** ` Did you mean `x`?` or the empty string; ready to append to a message. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const hit = closest(word, candidates);
  return hit ? ` Did you mean \`${hit}\`?` : '';
}
