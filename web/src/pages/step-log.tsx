// One step's log in the viewer, with the step's status above it.
import type { Status, Step, StepAttempt } from '../api/types.ts';
import { isDone } from '../api/types.ts';
import { StatusPill } from '../components/status.tsx';
import { Duration } from '../components/time.tsx';
import { LogViewer, type LineRange } from '../log/log-viewer.tsx';
import { useStepLog, type StepRef } from '../log/use-step-log.ts';

/** Why a finished build's log is empty when the retention policy removed it (Build.logs_purged). */
export function purgedText(build: { logs_purged?: number; finished: number; created: number }): string {
  const days = Math.max(0, Math.floor((build.logs_purged! - (build.finished || build.created)) / 86_400));
  return `Logs removed after ${days} day${days === 1 ? '' : 's'} by the retention policy.`;
}

export function StepLog({ at, step, purged, selection, onSelect, onDone }: {
  at: StepRef;
  /** The current step, or one of an earlier attempt of its stage (whose log is finished). */
  step: Step | StepAttempt;
  /** Set when the retention policy removed the build's logs: what to say instead of an empty log. */
  purged?: string;
  selection: LineRange | null;
  onSelect(range: LineRange): void;
  onDone(status: string): void;
}) {
  const live = !at.attempt && !isDone(step.status as Status);
  const { buffer, phase, error } = useStepLog(at, live, onDone);
  const emptyText =
    phase === 'loading'
      ? 'Loading the log…'
      : phase === 'error'
        ? `Could not load the log: ${error}`
        : purged
          ? purged
          : step.status === 'pending'
          ? 'This step has not started yet. Its log appears here as it runs.'
          : live
            ? 'Waiting for output…'
            : step.status === 'skipped'
              ? 'This step was skipped, so it has no log.'
              : 'This step printed nothing.';
  return (
    <LogViewer
      buffer={buffer}
      label={`Log of step ${step.name}`}
      live={live}
      emptyText={emptyText}
      selection={selection}
      onSelect={onSelect}
      fileName={`${at.slug.replace('/', '-')}-${at.build}-${at.stage}-${at.step}${at.attempt ? `-attempt${at.attempt}` : ''}-${step.name}.log`}
      toolbar={
        <>
          <strong className="log-step-name">{step.name}</strong>
          <StatusPill status={step.status} />
          <span className="small muted">
            <Duration started={step.started} stopped={step.stopped} />
          </span>
          {at.attempt && <span className="small muted">attempt {at.attempt}</span>}
          {'image' in step && step.image && <code className="small muted image-name">{step.image}</code>}
          {phase !== 'error' && error && <span className="small log-warning">{error}</span>}
        </>
      }
    />
  );
}
