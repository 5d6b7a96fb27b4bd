// A build's stages and their steps, each with its status and duration; the selected
// step is marked, and a pending stage says what it waits for.
import type { Stage } from '../api/types.ts';
import { StatusIcon, statusLabel } from '../components/status.tsx';
import { Duration } from '../components/time.tsx';
import { Link } from '../router.tsx';

export interface StepKey {
  stage: number;
  step: number;
}

export function StageTree({ stages, selected, stepUrl }: { stages: Stage[]; selected?: StepKey; stepUrl: (k: StepKey) => string }) {
  if (stages.length === 0) return <p className="muted small">This build has no stages.</p>;
  return (
    <nav className="stage-tree" aria-label="Stages and steps">
      {stages.map((stage) => (
        <section key={stage.number} className="stage" aria-labelledby={`stage-${stage.number}`}>
          <h2 className="stage-head" id={`stage-${stage.number}`}>
            <StatusIcon status={stage.status} />
            <span className="stage-name">{stage.name}</span>
            <Duration started={stage.started} stopped={stage.stopped} />
          </h2>
          {stage.waiting && (stage.status === 'pending' || stage.status === 'waiting_on_dependencies') && (
            <p className="stage-waiting small">{stage.waiting}</p>
          )}
          {stage.error && <p className="stage-error small">{stage.error}</p>}
          {stage.machine && <p className="stage-machine small muted">on {stage.machine}</p>}
          <ol className="steps">
            {(stage.steps ?? []).map((step) => {
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
      ))}
    </nav>
  );
}
