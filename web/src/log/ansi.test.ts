import { describe, expect, it } from 'vitest';
import { applySgr, color256, parseLine, plainText, PLAIN, styleAfter, styleProps } from './ansi.ts';

const ESC = '\x1b';

describe('parseLine', () => {
  it('keeps a line without escapes as one plain span', () => {
    expect(parseLine('hello world').spans).toEqual([{ text: 'hello world', style: PLAIN }]);
  });

  it('colours the text between SGR sequences and resets at 0', () => {
    const { spans, end } = parseLine(`${ESC}[32mgreen${ESC}[0m and ${ESC}[1;31mbold red${ESC}[0m`);
    expect(spans.map((s) => [s.text, styleProps(s.style).className])).toEqual([
      ['green', 'fg-2'],
      [' and ', undefined],
      ['bold red', 'fg-1 ansi-bold'],
    ]);
    expect(end).toBe(PLAIN);
  });

  it('reads bright colours, backgrounds, 256 colours and truecolor', () => {
    const [bright, bg, c256, rgb, colon] = [
      `${ESC}[94mx`,
      `${ESC}[43mx`,
      `${ESC}[38;5;208mx`,
      `${ESC}[38;2;10;20;30mx`,
      `${ESC}[38:2::255:0:0mx`,
    ].map((l) => parseLine(l).spans[0].style);
    expect(bright.fg).toBe(12);
    expect(bg.bg).toBe(3);
    expect(c256.fg).toBe('#ff8700');
    expect(rgb.fg).toBe('#0a141e');
    expect(colon.fg).toBe('#ff0000');
    expect(styleProps(rgb).style).toEqual({ color: '#0a141e' });
  });

  it('drops cursor movement, erase and OSC sequences, and control characters', () => {
    expect(plainText(`${ESC}[2K${ESC}[1Gdone${ESC}]0;title\x07 here\x08`)).toBe('done here');
  });

  it('shows what a carriage return leaves on screen, as a progress bar does', () => {
    expect(plainText('10%\r50%\r100%')).toBe('100%');
    expect(plainText('100%\r')).toBe('100%');
  });

  it('carries a style into the next line, as a terminal does', () => {
    const after = styleAfter(`${ESC}[33mstarts yellow`, PLAIN);
    expect(parseLine('still yellow', after).spans[0].style.fg).toBe(3);
    expect(styleAfter(`and ${ESC}[0m ends`, after)).toBe(PLAIN);
  });

  it('swaps colours for inverse video and clears attributes one by one', () => {
    const s = applySgr(applySgr(PLAIN, '7;31;1'), '22');
    expect(s.bold).toBe(false);
    expect(styleProps(s).className).toBe('fg-inv bg-1');
  });
});

describe('color256', () => {
  it('maps the palette, the colour cube and the greys', () => {
    expect(color256(9)).toBe(9);
    expect(color256(16)).toBe('#000000');
    expect(color256(231)).toBe('#ffffff');
    expect(color256(244)).toBe('#808080');
  });
});
