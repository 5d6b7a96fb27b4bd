// What a build built, in a line: event, branch or tag, commit, author.
import type { Build } from '../api/types.ts';
import { Avatar } from './common.tsx';

export function refLabel(b: Build): string {
  if (b.event === 'tag') return b.source || b.ref.replace(/^refs\/tags\//, '');
  if (b.event === 'pull_request') return `${b.source} → ${b.target}`;
  return b.target || b.source || b.ref.replace(/^refs\/heads\//, '');
}

const EVENTS: Record<string, string> = { push: 'push', pull_request: 'pull request', tag: 'tag', cron: 'cron', custom: 'manual', promote: 'promote', rollback: 'rollback' };

export function BuildRef({ build }: { build: Build }) {
  return (
    <span className="build-ref">
      <span className="tag">{EVENTS[build.event] ?? build.event}</span>
      <span className="ref" title={build.ref}>
        {refLabel(build)}
      </span>
      {build.after && (
        <a className="sha" href={build.link || undefined} target="_blank" rel="noreferrer" title={build.after}>
          {build.after.slice(0, 8)}
        </a>
      )}
      <span className="author">
        <Avatar src={build.author_avatar} name={build.author_login} size={18} />
        {build.author_login || build.author_name || build.sender}
      </span>
    </span>
  );
}

/** The first line of the commit message, or the pull request's title. */
export function buildTitle(b: Build): string {
  return (b.title || b.message || `${b.event} ${refLabel(b)}`).split('\n')[0];
}
