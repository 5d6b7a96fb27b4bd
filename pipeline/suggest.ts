// "Did you mean" hints for misspelt keys and names: a typo in `.drone.yml` should
// point at the word the user meant, not only say that theirs is unknown.

/** Levenshtein distance; the inputs are short YAML keys, so the O(n·m) table is fine. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
    }
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The candidate closest to `word`, when close enough to be a plausible typo
 * (a third of the word's length, at least 1, at most 3 edits), or a candidate
 * that differs only by a plural `s` / separator, which users often get wrong.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_ ]/g, '').replace(/s$/, '');
  const same = candidates.find((c) => norm(c) === norm(word));
  if (same) return same;
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
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
