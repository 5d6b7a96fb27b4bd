// A status as a coloured icon with its name next to it (or as its accessible name),
// so colour is never the only signal.
import type { Status } from '../api/types.ts';

const LABELS: Record<string, string> = {
  pending: 'Pending',
  running: 'Running',
  success: 'Passed',
  failure: 'Failed',
  error: 'Error',
  killed: 'Cancelled',
  skipped: 'Skipped',
  blocked: 'Blocked',
  declined: 'Declined',
  waiting_on_dependencies: 'Waiting',
};

export function statusLabel(status: string): string {
  return LABELS[status] ?? status;
}

/** The colour family a status belongs to; classes and icons key on it. */
export function statusTone(status: string): 'ok' | 'bad' | 'live' | 'idle' | 'off' {
  switch (status) {
    case 'success':
      return 'ok';
    case 'failure':
    case 'error':
    case 'killed':
    case 'declined':
      return 'bad';
    case 'running':
      return 'live';
    case 'skipped':
      return 'off';
    default:
      return 'idle';
  }
}

function Glyph({ status }: { status: string }) {
  switch (statusTone(status)) {
    case 'ok':
      return <path d="M4.5 8.2l2.3 2.3 4.7-5" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />;
    case 'bad':
      return status === 'killed' ? (
        <path d="M5 8h6" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
      ) : (
        <path d="M5.5 5.5l5 5m0-5l-5 5" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
      );
    case 'live':
      return <path className="spin" d="M8 3.5a4.5 4.5 0 1 1-4.5 4.5" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />;
    case 'off':
      return <path d="M5 11l6-6" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" />;
    default:
      return <circle cx="8" cy="8" r="2" fill="currentColor" />;
  }
}

export function StatusIcon({ status, size = 16, label = true }: { status: Status | string; size?: number; label?: boolean }) {
  return (
    <svg
      className={`status-icon tone-${statusTone(status)}`}
      width={size}
      height={size}
      viewBox="0 0 16 16"
      role={label ? 'img' : undefined}
      aria-label={label ? statusLabel(status) : undefined}
      aria-hidden={label ? undefined : true}
    >
      <circle cx="8" cy="8" r="7" fill="currentColor" opacity="0.14" />
      <Glyph status={status} />
    </svg>
  );
}

export function StatusPill({ status }: { status: Status | string }) {
  return (
    <span className={`status-pill tone-${statusTone(status)}`} data-status={status}>
      <StatusIcon status={status} label={false} />
      {statusLabel(status)}
    </span>
  );
}
