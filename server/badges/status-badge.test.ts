import { describe, expect, it } from 'vitest';
import { STATUSES } from '../../core/domain.ts';
import { badgeLook, statusBadgeSvg } from './status-badge.ts';

describe('status badge', () => {
  it.each([
    ['success', 'passing', '#4c1'],
    ['failure', 'failing', '#e05d44'],
    ['error', 'error', '#fe7d37'],
    ['running', 'running', '#dfb317'],
    ['pending', 'pending', '#dfb317'],
    ['blocked', 'pending', '#dfb317'],
    ['waiting_on_dependencies', 'pending', '#dfb317'],
    ['killed', 'killed', '#9f9f9f'],
    ['declined', 'failing', '#e05d44'],
    ['skipped', 'none', '#9f9f9f'],
  ] as const)('shows a %s build as %s in %s', (status, text, color) => {
    expect(badgeLook(status)).toEqual({ text, color });
  });

  it('shows "none" in grey when there is no build', () => {
    expect(badgeLook(undefined)).toEqual({ text: 'none', color: '#9f9f9f' });
  });

  it('has a look for every status', () => {
    for (const status of STATUSES) expect(badgeLook(status).text).toMatch(/^(passing|failing|error|pending|running|killed|none)$/);
  });

  it('draws "build" and the status with an accessible title, the status half in its colour', () => {
    const svg = statusBadgeSvg('success');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="20" role="img" aria-label="build: passing">/);
    expect(svg).toContain('<title>build: passing</title>');
    expect(svg).toContain('fill="#4c1"');
    expect(svg).toContain('>build</text>');
    expect(svg).toContain('>passing</text>');
    expect(svg.endsWith('</svg>')).toBe(true);
  });

  it('is as wide as its two halves, wider for a longer status', () => {
    const width = (svg: string) => Number(/width="(\d+)"/.exec(svg)![1]);
    expect(width(statusBadgeSvg('success'))).toBeGreaterThan(width(statusBadgeSvg('error')));
    const svg = statusBadgeSvg('error');
    const rects = [...svg.matchAll(/<rect (?:x="(\d+)" )?width="(\d+)" height="20" fill="#(?:555|fe7d37)"/g)];
    expect(rects.map((m) => Number(m[2])).reduce((a, b) => a + b)).toBe(width(svg));
  });

  it('escapes its label', () => {
    expect(statusBadgeSvg('success', 'a<b')).toContain('a&lt;b');
  });
});
