// ANSI escape sequences in build logs, turned into styled spans. SGR (colours, bold,
// italic, underline, inverse; 16 colours, 256 colours, truecolor) is honoured; cursor
// movement, erase and OSC sequences are dropped; a carriage return keeps what was
// written last, as a terminal showing a progress bar would.
//
// Styles are immutable and shared, so a line's starting style (the state a previous
// line left, as in a terminal) can be stored per line by reference.

export interface Style {
  /** 0–15: the palette (classes fg-N); a string: an exact colour (#rrggbb). */
  fg?: number | string;
  bg?: number | string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  inverse?: boolean;
}

export const PLAIN: Style = Object.freeze({});

export interface Span {
  text: string;
  style: Style;
}

// SGR, any other CSI, OSC (ended by BEL or ST, or cut off at the line's end), and two-byte escapes.
const ESCAPES = /\x1b\[([0-9;:]*)m|\x1b\[[0-9;?:<=>]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[()#][0-9A-Za-z]|\x1b[@-_]/g;
const SGR_ONLY = /\x1b\[([0-9;:]*)m/g;
// Control characters a terminal would not print (tab stays).
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;

function rgbHex(r: number, g: number, b: number): string {
  const h = (n: number) => Math.max(0, Math.min(255, n | 0)).toString(16).padStart(2, '0');
  return `#${h(r)}${h(g)}${h(b)}`;
}

/** xterm's 256-colour table: 0–15 the palette, 16–231 a 6×6×6 cube, 232–255 greys. */
export function color256(n: number): number | string {
  if (n < 16) return n;
  if (n < 232) {
    const c = n - 16;
    const level = (v: number) => (v === 0 ? 0 : 55 + v * 40);
    return rgbHex(level(Math.floor(c / 36)), level(Math.floor(c / 6) % 6), level(c % 6));
  }
  const grey = 8 + (n - 232) * 10;
  return rgbHex(grey, grey, grey);
}

/** The style after an SGR sequence's parameters ("1;31", "38;5;208", "" = reset). */
export function applySgr(style: Style, params: string): Style {
  // The colon form (38:2::r:g:b) carries an optional colour-space id; read it as the semicolon form.
  const codes = params === '' ? [0] : params.replace(/:(?=:)/g, ':0').split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
  let s: Style = style;
  const set = (patch: Style) => {
    s = { ...s, ...patch };
  };
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c === 0) s = PLAIN;
    else if (c === 1) set({ bold: true });
    else if (c === 2) set({ dim: true });
    else if (c === 3) set({ italic: true });
    else if (c === 4) set({ underline: true });
    else if (c === 7) set({ inverse: true });
    else if (c === 22) set({ bold: false, dim: false });
    else if (c === 23) set({ italic: false });
    else if (c === 24) set({ underline: false });
    else if (c === 27) set({ inverse: false });
    else if (c >= 30 && c <= 37) set({ fg: c - 30 });
    else if (c === 39) set({ fg: undefined });
    else if (c >= 40 && c <= 47) set({ bg: c - 40 });
    else if (c === 49) set({ bg: undefined });
    else if (c >= 90 && c <= 97) set({ fg: c - 90 + 8 });
    else if (c >= 100 && c <= 107) set({ bg: c - 100 + 8 });
    else if (c === 38 || c === 48) {
      const key = c === 38 ? 'fg' : 'bg';
      if (codes[i + 1] === 5 && i + 2 < codes.length) {
        set({ [key]: color256(codes[i + 2]) });
        i += 2;
      } else if (codes[i + 1] === 2 && i + 4 < codes.length) {
        // 38;2;r;g;b, or 38;2;id;r;g;b from the colon form with a colour space
        const hasSpace = codes.length - i >= 6 && params.includes(':');
        const at = hasSpace ? i + 3 : i + 2;
        set({ [key]: rgbHex(codes[at], codes[at + 1], codes[at + 2]) });
        i = at + 2;
      } else {
        break; // malformed: ignore the rest, as terminals do
      }
    }
  }
  return s;
}

/** What a carriage return leaves on screen: the last non-empty segment. */
function afterCarriageReturns(text: string): string {
  if (!text.includes('\r')) return text;
  const parts = text.split('\r');
  for (let i = parts.length - 1; i >= 0; i--) if (parts[i] !== '') return parts[i];
  return '';
}

/** A line (without its newline) as spans, starting in `start` style; also the style it leaves. */
export function parseLine(raw: string, start: Style = PLAIN): { spans: Span[]; end: Style } {
  const text = afterCarriageReturns(raw);
  if (!text.includes('\x1b')) {
    return { spans: text ? [{ text: text.replace(CONTROLS, ''), style: start }] : [], end: start };
  }
  const spans: Span[] = [];
  let style = start;
  let last = 0;
  ESCAPES.lastIndex = 0;
  for (let m = ESCAPES.exec(text); m; m = ESCAPES.exec(text)) {
    if (m.index > last) push(spans, text.slice(last, m.index), style);
    if (m[1] !== undefined) style = applySgr(style, m[1]);
    last = ESCAPES.lastIndex;
  }
  if (last < text.length) push(spans, text.slice(last), style);
  return { spans, end: style };
}

function push(spans: Span[], text: string, style: Style): void {
  const clean = text.replace(CONTROLS, '');
  if (!clean) return;
  const prev = spans[spans.length - 1];
  if (prev && prev.style === style) prev.text += clean;
  else spans.push({ text: clean, style });
}

/** The style a line leaves behind, reading only its SGR sequences (cheap: used on every line as it arrives). */
export function styleAfter(raw: string, start: Style): Style {
  if (!raw.includes('\x1b[')) return start;
  let style = start;
  SGR_ONLY.lastIndex = 0;
  for (let m = SGR_ONLY.exec(raw); m; m = SGR_ONLY.exec(raw)) style = applySgr(style, m[1]);
  return style;
}

/** The text without any escape sequence, as a reader would copy it. */
export function plainText(raw: string): string {
  return parseLine(raw).spans.map((s) => s.text).join('');
}

/** CSS class names and inline colours for a style. */
export function styleProps(s: Style): { className?: string; style?: { color?: string; backgroundColor?: string } } {
  if (s === PLAIN) return {};
  let fg = s.fg;
  let bg = s.bg;
  if (s.inverse) [fg, bg] = [bg ?? 'inv-fg', fg ?? 'inv-bg'];
  const classes: string[] = [];
  const inline: { color?: string; backgroundColor?: string } = {};
  if (typeof fg === 'number') classes.push(`fg-${fg}`);
  else if (fg === 'inv-fg') classes.push('fg-inv');
  else if (fg) inline.color = fg;
  if (typeof bg === 'number') classes.push(`bg-${bg}`);
  else if (bg === 'inv-bg') classes.push('bg-inv');
  else if (bg) inline.backgroundColor = bg;
  if (s.bold) classes.push('ansi-bold');
  if (s.dim) classes.push('ansi-dim');
  if (s.italic) classes.push('ansi-italic');
  if (s.underline) classes.push('ansi-underline');
  return {
    className: classes.length ? classes.join(' ') : undefined,
    style: inline.color || inline.backgroundColor ? inline : undefined,
  };
}
