// A step's log for the viewer: everything stored so far in one GET, then, while the step
// may still print, the live stream from just after the last line fetched. The browser
// reconnects a dropped stream by itself with Last-Event-ID; the buffer drops any line
// it already has, so a reconnect neither repeats nor loses lines.
import { useEffect, useMemo, useRef, useState } from 'react';
import { api, messageOf, repoPath } from '../api/client.ts';
import { takePrefetched } from '../api/prefetch.ts';
import type { LogLine } from '../api/types.ts';
import { LogBuffer } from './log-buffer.ts';

export interface StepRef {
  slug: string;
  build: number;
  stage: number;
  step: number;
  /** An earlier attempt of a retried stage, read from …?attempt=N; absent for the current one. */
  attempt?: number;
  /** The stage's current attempt: a retry starts the step's log afresh. */
  current?: number;
}

export type LogPhase = 'loading' | 'live' | 'done' | 'error';

const POLL_MS = 2000;

export function useStepLog(ref: StepRef, live: boolean, onDone?: (status: string) => void): { buffer: LogBuffer; phase: LogPhase; error: string } {
  const key = `${ref.slug}/${ref.build}/${ref.stage}/${ref.step}@${ref.attempt ?? `current ${ref.current ?? 1}`}`;
  const buffer = useMemo(() => new LogBuffer(), [key]);
  const [phase, setPhase] = useState<LogPhase>('loading');
  const [error, setError] = useState('');
  // Read once per step: a step that was live when opened stays subscribed until its `done` event.
  const liveAtOpen = useRef(live);
  liveAtOpen.current = live;
  const doneRef = useRef(onDone);
  doneRef.current = onDone;

  useEffect(() => {
    const base = `${repoPath(ref.slug)}/${ref.build}/${ref.stage}/${ref.step}`;
    const logsPath = `/api/repos/${repoPath(ref.slug)}/builds/${ref.build}/logs/${ref.stage}/${ref.step}${ref.attempt ? `?attempt=${ref.attempt}` : ''}`;
    const ctl = new AbortController();
    let source: EventSource | null = null;
    let poll: ReturnType<typeof setInterval> | undefined;
    let finished = false;
    setPhase('loading');
    setError('');

    const finish = (status: string) => {
      finished = true;
      source?.close();
      source = null;
      if (poll) clearInterval(poll);
      buffer.flush();
      setPhase('done');
      doneRef.current?.(status);
    };
    const open = () => {
      const after = buffer.lastPos;
      const es = new EventSource(`/api/stream/${base}${after >= 0 ? `?after=${after}` : ''}`);
      source = es;
      es.onmessage = (e: MessageEvent<string>) => buffer.push(JSON.parse(e.data) as LogLine);
      es.addEventListener('done', (e) => finish((JSON.parse((e as MessageEvent<string>).data) as { status: string }).status));
      es.onerror = () => {
        if (es.readyState !== EventSource.CLOSED || finished) return;
        // The server refused the stream: fetch the log again every few seconds instead.
        source = null;
        setError('the live log is not available; refreshing every few seconds');
        poll ??= setInterval(() => {
          api<LogLine[]>(logsPath).then((lines) => buffer.append(lines), () => undefined);
        }, POLL_MS);
      };
    };
    // A hidden tab lets go of its stream (browsers allow six connections per host) and resumes when shown.
    const onVisibility = () => {
      if (finished || poll) return;
      if (document.hidden) {
        source?.close();
        source = null;
      } else if (!source) open();
    };

    (takePrefetched<LogLine[]>(logsPath) ?? api<LogLine[]>(logsPath, { signal: ctl.signal })).then(
      (lines) => {
        buffer.append(lines);
        if (!liveAtOpen.current) {
          finished = true;
          setPhase('done');
          return;
        }
        setPhase('live');
        open();
        document.addEventListener('visibilitychange', onVisibility);
      },
      (err) => {
        if (ctl.signal.aborted) return;
        setError(messageOf(err));
        setPhase('error');
      },
    );
    return () => {
      ctl.abort();
      finished = true;
      source?.close();
      if (poll) clearInterval(poll);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [buffer]);

  return { buffer, phase, error };
}
