// A build's stages and their steps, each with its status and duration; the selected
// step is marked, and a pending stage says what it waits for. A retried stage offers a
// switch between its attempts; an earlier one shows its steps as they ended.
import type { Stage, StageAttempt } from '../api/types.ts';
import { StatusIcon, statusLabel } from '../components/status.tsx';
import { Duration } from '../components/time.tsx';
import { Link } from '../router.tsx';

export interface StepKey {
  stage: number;
  step: number;
}

/** The attempt of a stage to show: an earlier one (from `stage.attempts`) or, when absent, the current one. */
export function shownAttempt(stage: Stage, attempt: number | undefined): StageAttempt | undefined {
  return attempt === undefined || attempt === stage.attempt ? undefined : stage.attempts?.find((a) => a.attempt === attempt);
}

export function StageTree({ stages, selected, stepUrl, attempts = {}, onAttempt }: {
  stages: Stage[];
  selected?: StepKey;
  stepUrl: (k: StepKey) => string;
  /** The attempt shown of each stage, by stage number; the current one when absent. */
  attempts?: Record<number, number>;
  onAttempt?(stage: number, attempt: number): void;
}) {
  if (stages.length === 0) return <p className="muted small">This build has no stages.</p>;
  return (
    <nav className="stage-tree" aria-label="Stages and steps">
      {stages.map((stage) => {
        const past = shownAttempt(stage, attempts[stage.number]);
        const shown = past ?? stage;
        return (
        <section key={stage.number} className="stage" aria-labelledby={`stage-${stage.number}`}>
          <h2 className="stage-head" id={`stage-${stage.number}`}>
            <StatusIcon status={shown.status} />
            <span className="stage-name">{stage.name}</span>
            <Duration started={shown.started} stopped={shown.stopped} />
          </h2>
          {(stage.attempts?.length ?? 0) > 0 && (
            <div className="attempt-switch small" role="group" aria-label={`Attempts of ${stage.name}`}>
              {[...stage.attempts!.map((a) => a.attempt), stage.attempt].map((n) => (
                <button
                  key={n}
                  type="button"
                  className={`btn btn-small${(past?.attempt ?? stage.attempt) === n ? ' selected' : ''}`}
                  aria-pressed={(past?.attempt ?? stage.attempt) === n}
                  onClick={() => onAttempt?.(stage.number, n)}
                >
                  {n === stage.attempt ? `Attempt ${n} (latest)` : `Attempt ${n}`}
                </button>
              ))}
            </div>
          )}
          {!past && stage.waiting && (stage.status === 'pending' || stage.status === 'waiting_on_dependencies') && (
            <p className="stage-waiting small">{stage.waiting}</p>
          )}
          {shown.error && <p className="stage-error small">{shown.error}</p>}
          {shown.machine && <p className="stage-machine small muted">on {shown.machine}</p>}
          <ol className="steps">
            {(shown.steps ?? []).map((step) => {
              const isSelected = selected?.stage === stage.number && selected.step === step.number;
              return (
                <li key={step.number}>
                  <Link
                    to={stepUrl({ stage: stage.number, step: step.number })}
                    className={`step-link${isSelected ? ' selected' : ''}`}
                    aria-current={isSelected ? 'step' : undefined}
                    replace
                    data-step={step.name}
                  >
                    <StatusIcon status={step.status} label={false} />
                    <span className="step-name">{step.name}</span>
                    <span className="visually-hidden">, {statusLabel(step.status)}</span>
                    {step.status !== 'success' && step.status !== 'running' && step.exit_code > 0 && (
                      <span className="exit-code small">exit {step.exit_code}</span>
                    )}
                    <Duration started={step.started} stopped={step.stopped} />
                  </Link>
                </li>
              );
            })}
          </ol>
        </section>
        );
      })}
    </nav>
  );
}
