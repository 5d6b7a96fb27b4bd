import { describe, expect, it } from 'vitest';
import { LogBuffer } from './log-buffer.ts';

const line = (pos: number, out = `line ${pos}\n`) => ({ pos, out, time: pos });

describe('LogBuffer', () => {
  it('keeps lines in position order without their newlines', () => {
    const b = new LogBuffer();
    b.append([line(0), line(1, 'two\r\n')]);
    expect(b.out).toEqual(['line 0', 'two']);
    expect(b.lastPos).toBe(1);
  });

  it('drops lines it already has, as a reconnecting stream resends the last one', () => {
    const b = new LogBuffer();
    b.append([line(0), line(1), line(2)]);
    b.append([line(2), line(3), line(1)]);
    expect(b.pos).toEqual([0, 1, 2, 3]);
  });

  it('puts a late line into its gap', () => {
    const b = new LogBuffer();
    b.append([line(0), line(2), line(3)]);
    b.append([line(1)]);
    expect(b.pos).toEqual([0, 1, 2, 3]);
    expect(b.indexOf(2)).toBe(2);
    expect(b.indexOf(7)).toBe(-1);
  });

  it('tells listeners once per batch, not once per line', async () => {
    const b = new LogBuffer();
    let calls = 0;
    let told: () => void = () => {};
    const first = new Promise<void>((resolve) => (told = resolve));
    b.subscribe(() => {
      calls++;
      told();
    });
    for (let i = 0; i < 1000; i++) b.push(line(i));
    expect(calls).toBe(0);
    await first;
    expect(calls).toBe(1);
    expect(b.length).toBe(1000);
  });

  it('records the style each line starts in', () => {
    const b = new LogBuffer();
    b.append([line(0, '\x1b[31mred starts\n'), line(1, 'still red\n'), line(2, '\x1b[0mplain\n'), line(3, 'plain\n')]);
    expect(b.startStyle.map((s) => s?.fg)).toEqual([undefined, 1, 1, undefined]);
  });

  it('gives back the raw log with its escapes', () => {
    const b = new LogBuffer();
    b.append([line(0, '\x1b[32mok\x1b[0m\n'), line(1, 'done\n')]);
    expect(b.text()).toBe('\x1b[32mok\x1b[0m\ndone\n');
  });
});
