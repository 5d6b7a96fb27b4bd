// The build status badge as SVG, in the flat style of Drone's and shields.io's
// badges: "build" on grey, the status on its colour.
import type { Status } from '../../core/domain.ts';

export interface BadgeLook {
  text: string;
  color: string;
}

const GREEN = '#4c1';
const RED = '#e05d44';
const ORANGE = '#fe7d37';
const YELLOW = '#dfb317';
const GREY = '#9f9f9f';

/** What the badge says for the latest build's status, or for no build at all. */
export function badgeLook(status: Status | undefined): BadgeLook {
  switch (status) {
    case 'success':
      return { text: 'passing', color: GREEN };
    case 'failure':
    // Drone shows a declined build as failing too.
    case 'declined':
      return { text: 'failing', color: RED };
    case 'error':
      return { text: 'error', color: ORANGE };
    case 'running':
      return { text: 'running', color: YELLOW };
    case 'pending':
    case 'blocked':
    case 'waiting_on_dependencies':
      return { text: 'pending', color: YELLOW };
    case 'killed':
      return { text: 'killed', color: GREY };
    default:
      // No build, or one whose every stage was skipped: nothing to say about the code.
      return { text: 'none', color: GREY };
  }
}

/** Verdana at 11px averages about 6.5px a character; 10px of padding around each half. */
function width(text: string): number {
  return Math.round(text.length * 6.5 + 10);
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function statusBadgeSvg(status: Status | undefined, label = 'build'): string {
  const { text, color } = badgeLook(status);
  const left = width(label);
  const right = width(text);
  const total = left + right;
  const title = escape(`${label}: ${text}`);
  const half = (x: number, w: number, t: string) =>
    `<text x="${x + w / 2}" y="15" fill="#010101" fill-opacity=".3">${escape(t)}</text><text x="${x + w / 2}" y="14">${escape(t)}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${total}" height="20" role="img" aria-label="${title}">`,
    `<title>${title}</title>`,
    '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>',
    `<clipPath id="r"><rect width="${total}" height="20" rx="3" fill="#fff"/></clipPath>`,
    `<g clip-path="url(#r)"><rect width="${left}" height="20" fill="#555"/><rect x="${left}" width="${right}" height="20" fill="${color}"/><rect width="${total}" height="20" fill="url(#s)"/></g>`,
    `<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">${half(0, left, label)}${half(left, right, text)}</g>`,
    '</svg>',
  ].join('');
}
