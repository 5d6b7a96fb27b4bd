// Hides secret values in log lines: each value as written, trimmed, line by line (a key
// file), base64-encoded (standard and URL-safe, padded or not, also inside a longer
// encoded text such as `user:password`) and URL-encoded. Text covered by any of these,
// overlapping matches together, becomes one MASK.

export const MASK = '******';

/**
 * Shorter values are refused as secrets: hiding every "abc" or "1" in every log would
 * garble the log and tell a reader, by the gaps, what the value is.
 */
export const MIN_SECRET_LENGTH = 4;

/** Length in characters as people count them (a code point, not a UTF-16 unit). */
export function secretLength(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

/** A fragment worth hiding: long enough, and not only white space (which would hide indentation). */
function worthHiding(text: string): boolean {
  return secretLength(text) >= MIN_SECRET_LENGTH && /\S/.test(text);
}

/**
 * Base64 of `bytes` as it shows inside the encoding of a longer text in which they start at
 * each of the three byte offsets: only the characters that depend on `bytes` alone.
 */
function base64Cores(bytes: Buffer): string[] {
  const cores: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const core = encoded.slice(Math.ceil((8 * shift) / 6), Math.floor((8 * (shift + bytes.length)) / 6));
    cores.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return cores;
}

function base64Forms(text: string): string[] {
  const bytes = Buffer.from(text, 'utf8');
  const standard = bytes.toString('base64');
  const urlSafe = standard.replace(/\+/g, '-').replace(/\//g, '_');
  return [standard, standard.replace(/=+$/, ''), urlSafe, urlSafe.replace(/=+$/, ''), ...base64Cores(bytes)];
}

function urlForms(text: string): string[] {
  try {
    const component = encodeURIComponent(text);
    // RFC 3986 encoders (Python's quote, curl) also encode !'()*; form encoding writes a space as +.
    const strict = component.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    return [component, strict, strict.replace(/%20/g, '+'), new URLSearchParams({ v: text }).toString().slice(2)];
  } catch {
    return []; // a lone surrogate has no URL encoding, so it cannot be printed as one either
  }
}

/** Every form of a secret value that is hidden in logs. The value must be at least MIN_SECRET_LENGTH long. */
export function secretForms(value: string): string[] {
  const forms = new Set<string>();
  const add = (text: string) => {
    if (worthHiding(text)) forms.add(text);
  };
  const lines = value.split(/\r?\n/);
  // Logs are cut into lines, so a value with a line break shows line by line; `echo $X` drops outer spaces.
  for (const line of lines) {
    add(line);
    add(line.trim());
  }
  for (const whole of new Set([value, value.trim()])) {
    if (!worthHiding(whole)) continue;
    for (const form of [...base64Forms(whole), ...urlForms(whole)]) {
      // An encoded core this short could be anything; the value itself is long enough to be hidden.
      if (form.length >= MIN_SECRET_LENGTH && !form.includes('\n')) forms.add(form);
    }
  }
  return [...forms];
}

/** Finds every form at once (Aho-Corasick over UTF-16 units): one pass over a line, whatever the number of secrets. */
class FormMatcher {
  private readonly next: Map<number, number>[] = [new Map()];
  private readonly fail: number[] = [0];
  /** Length of the longest form that ends at this state, 0 for none. */
  private readonly out: number[] = [0];

  constructor(forms: string[]) {
    for (const form of forms) {
      let state = 0;
      for (let i = 0; i < form.length; i++) {
        const c = form.charCodeAt(i);
        let to = this.next[state].get(c);
        if (to === undefined) {
          to = this.next.length;
          this.next.push(new Map());
          this.fail.push(0);
          this.out.push(0);
          this.next[state].set(c, to);
        }
        state = to;
      }
      this.out[state] = Math.max(this.out[state], form.length);
    }
    // Breadth first, so a state's fail link (a shorter state) is done before it is used.
    const queue = [...this.next[0].values()];
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head];
      for (const [c, to] of this.next[state]) {
        let f = this.fail[state];
        while (f !== 0 && !this.next[f].has(c)) f = this.fail[f];
        const link = this.next[f].get(c);
        this.fail[to] = link !== undefined && link !== to ? link : 0;
        this.out[to] = Math.max(this.out[to], this.out[this.fail[to]]);
        queue.push(to);
      }
    }
  }

  /** The stretches of `text` that forms cover, overlapping ones joined: [start, end) pairs in order. */
  cover(text: string): number[] {
    const spans: number[] = [];
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      for (;;) {
        const to = this.next[state].get(c);
        if (to !== undefined) {
          state = to;
          break;
        }
        if (state === 0) break;
        state = this.fail[state];
      }
      const length = this.out[state];
      if (length === 0) continue;
      // A longer form ending here may start before stretches found so far: it takes them in.
      let start = i + 1 - length;
      while (spans.length > 0 && start < spans[spans.length - 1]) {
        start = Math.min(start, spans[spans.length - 2]);
        spans.length -= 2;
      }
      spans.push(start, i + 1);
    }
    return spans;
  }
}

function replaceSpans(text: string, spans: number[], from: number, to: number): string {
  let out = '';
  let last = from;
  for (let k = 0; k < spans.length; k += 2) {
    if (spans[k] < from || spans[k + 1] > to) continue;
    out += text.slice(last, spans[k]) + MASK;
    last = spans[k + 1];
  }
  return out + text.slice(last, to);
}

export class SecretMasker {
  private readonly matcher: FormMatcher | null;
  /** The longest form: a line cut this far before its end cannot cut a secret in two. */
  readonly longest: number;

  /** Values shorter than MIN_SECRET_LENGTH are left out; the caller warns about them. */
  constructor(values: Iterable<string>) {
    const forms = new Set<string>();
    for (const value of values) {
      if (secretLength(value) < MIN_SECRET_LENGTH) continue;
      for (const form of secretForms(value)) forms.add(form);
    }
    this.longest = Math.max(0, ...[...forms].map((f) => f.length));
    this.matcher = forms.size > 0 ? new FormMatcher([...forms]) : null;
  }

  /** No secret to hide: every text is left as it is, and callers may skip asking. */
  get empty(): boolean {
    return this.matcher === null;
  }

  /** The text with every stretch covered by secret forms replaced by one MASK. */
  mask(text: string): string {
    if (!this.matcher) return text;
    const spans = this.matcher.cover(text);
    return spans.length === 0 ? text : replaceSpans(text, spans, 0, text.length);
  }

  /**
   * For a line too long to wait for its end: the masked part of `text` that nothing after it
   * can change, and the unmasked rest, which goes in front of what comes next. A secret
   * that may go on past the end of `text` stays in the rest, so it is masked whole later.
   * The head is empty only while `text` is shorter than the longest form.
   */
  maskHead(text: string): { head: string; rest: string } {
    if (!this.matcher) return { head: text, rest: '' };
    // A form that ends after `text` starts at `cut` or later.
    let cut = text.length - this.longest + 1;
    if (cut <= 0) return { head: '', rest: text };
    const spans = this.matcher.cover(text);
    for (let k = 0; k < spans.length; k += 2) {
      // A covered stretch across the cut goes to the rest whole, unless it starts the text
      // (an endless run of overlapping copies): then it is masked up to its end here.
      if (spans[k] < cut && spans[k + 1] > cut) cut = spans[k] > 0 ? spans[k] : spans[k + 1];
    }
    return { head: replaceSpans(text, spans, 0, cut), rest: text.slice(cut) };
  }
}
