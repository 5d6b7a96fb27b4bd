// Times as people read them: "3 minutes ago", "1m 05s", ticking while something runs.
import { useEffect, useState } from 'react';

/** The current unix time in seconds, updated every `everyMs` while `active`. */
export function useNow(active = true, everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now() / 1000);
  useEffect(() => {
    if (!active) return;
    setNow(Date.now() / 1000);
    const id = setInterval(() => setNow(Date.now() / 1000), everyMs);
    return () => clearInterval(id);
  }, [active, everyMs]);
  return now;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function timeAgo(unix: number, now = Date.now() / 1000): string {
  const d = Math.max(0, now - unix);
  if (d < 45) return 'just now';
  if (d < 90) return 'a minute ago';
  if (d < 3600) return `${Math.round(d / 60)} minutes ago`;
  if (d < 5400) return 'an hour ago';
  if (d < 86400) return `${Math.round(d / 3600)} hours ago`;
  if (d < 172800) return 'yesterday';
  if (d < 2592000) return `${Math.round(d / 86400)} days ago`;
  return new Date(unix * 1000).toLocaleDateString();
}

/** A <time> saying how long ago, with the exact time on hover. */
export function Ago({ unix }: { unix: number }) {
  const now = useNow(true, 30_000);
  if (!unix) return null;
  const date = new Date(unix * 1000);
  return (
    <time dateTime={date.toISOString()} title={date.toLocaleString()}>
      {timeAgo(unix, now)}
    </time>
  );
}

/** How long something took, or has taken so far while it runs. */
export function Duration({ started, stopped }: { started: number; stopped: number }) {
  const running = started > 0 && !stopped;
  const now = useNow(running);
  if (!started) return null;
  return <span className="duration">{formatDuration((stopped || now) - started)}</span>;
}
