// Hides secret values in log lines. A multi-line secret (a key file, say) is hidden
// line by line, since the log is cut into lines before it is masked.

export const MASK = '******';

export class SecretMasker {
  private readonly pattern: RegExp | null;

  constructor(values: string[]) {
    const fragments = new Set<string>();
    for (const value of values) {
      for (const line of value.split(/\r?\n/)) {
        const fragment = line.trim();
        if (fragment) fragments.add(fragment);
      }
    }
    // Longest first: the regex takes the first alternative that matches at a position,
    // so a secret containing another is hidden whole.
    const sorted = [...fragments].sort((a, b) => b.length - a.length);
    this.pattern = sorted.length > 0 ? new RegExp(sorted.map(escapeRegExp).join('|'), 'g') : null;
  }

  mask(text: string): string {
    return this.pattern ? text.replace(this.pattern, MASK) : text;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
