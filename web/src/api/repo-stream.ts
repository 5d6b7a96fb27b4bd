// A repository's builds, live: GET /api/stream/{owner}/{name} sends each build (without
// stages) when it is created or changes. After a dropped connection the page refetches,
// since events may have been missed; a server without the stream is polled instead.
// The stream closes while the tab is hidden: browsers allow six connections per host
// over HTTP/1.1, and a few background tabs holding streams would starve the visible one.
import { useEffect, useRef } from 'react';
import { repoPath } from './client.ts';
import type { Build } from './types.ts';

export interface RepoStreamHandlers {
  onBuild(build: Build): void;
  /** Something may have been missed: fetch again. */
  onResync(): void;
}

const POLL_MS = 5000;

export function useRepoStream(slug: string, handlers: RepoStreamHandlers): void {
  const ref = useRef(handlers);
  ref.current = handlers;
  useEffect(() => {
    let source: EventSource | null = null;
    let poll: ReturnType<typeof setInterval> | undefined;
    let dropped = false;
    const onEvent = (e: MessageEvent<string>) => {
      try {
        ref.current.onBuild(JSON.parse(e.data) as Build);
      } catch {
        // A heartbeat or a message that is not a build: nothing to show.
      }
    };
    const open = () => {
      const es = new EventSource(`/api/stream/${repoPath(slug)}`);
      source = es;
      es.onopen = () => {
        if (dropped) ref.current.onResync();
        dropped = false;
      };
      es.onmessage = onEvent;
      es.addEventListener('build', onEvent as EventListener);
      es.onerror = () => {
        dropped = true;
        // CLOSED: the server refused the stream (an older server, a 404); the browser will not retry.
        if (es.readyState === EventSource.CLOSED) {
          source = null;
          poll ??= setInterval(() => ref.current.onResync(), POLL_MS);
        }
      };
    };
    const onVisibility = () => {
      if (document.hidden) {
        source?.close();
        source = null;
      } else if (!source && !poll) {
        open();
        ref.current.onResync();
      }
    };
    open();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      document.removeEventListener('visibilitychange', onVisibility);
      source?.close();
      if (poll) clearInterval(poll);
    };
  }, [slug]);
}
