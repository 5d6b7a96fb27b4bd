// A Backend without an engine, for tests of the runner loop: a step "runs" for the
// milliseconds in its SLEEP_MS variable, or until the test opens the gate its GATE
// variable names, or until it is aborted. `sick` makes its health check fail, and
// `holdSetup` keeps a stage in setup, before any step, until it is aborted.
import type { Plan, PlanStep } from '../../pipeline/types.ts';
import type { Backend, StepOutput, StepResult } from '../backend/backend.ts';

export class FakeBackend implements Backend {
  running = 0;
  maxRunning = 0;
  destroyed: string[] = [];
  leftoverCalls: Record<string, string>[] = [];
  /** Set, the health check fails with this message, as an engine that does not answer. */
  sick = '';
  /** Health checks made so far, so a test can let several pass without a clock. */
  healthChecks = 0;
  /** Steps that were aborted (killed), by name. */
  aborted: string[] = [];
  private readonly gates = new Map<string, (() => void)[]>();
  private readonly opened = new Set<string>();

  /** Stage ids (their io.harrier.stage label) whose setup never ends until aborted: stages whose steps never start. */
  holdSetup = new Set<string>();
  /** Stage ids whose setup is being held now. */
  setupsHeld = new Set<string>();

  async setup(plan: Plan, signal: AbortSignal): Promise<void> {
    const stage = plan.labels['io.harrier.stage'] ?? '';
    if (!this.holdSetup.has(stage)) return;
    this.setupsHeld.add(stage);
    try {
      await new Promise<void>((_resolve, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    } finally {
      this.setupsHeld.delete(stage);
    }
  }

  async healthy(): Promise<void> {
    this.healthChecks++;
    if (this.sick) throw new Error(this.sick);
  }

  /** Lets every step waiting on `gate` (its GATE variable) finish, now and later. */
  open(gate: string): void {
    this.opened.add(gate);
    for (const resolve of this.gates.get(gate) ?? []) resolve();
    this.gates.delete(gate);
  }

  async run(_plan: Plan, step: PlanStep, output: StepOutput, signal: AbortSignal): Promise<StepResult> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      await output(Buffer.from(`running ${step.name}\n`));
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        const done = () => {
          settled = true;
          resolve();
        };
        const gate = step.env.GATE;
        const timer = gate ? undefined : setTimeout(done, Number(step.env.SLEEP_MS ?? 0));
        if (gate && this.opened.has(gate)) done();
        else if (gate) this.gates.set(gate, [...(this.gates.get(gate) ?? []), done]);
        signal.addEventListener('abort', () => {
          if (settled) return;
          clearTimeout(timer);
          this.aborted.push(step.name);
          reject(signal.reason);
        }, { once: true });
      });
      return { exitCode: Number(step.env.EXIT_CODE ?? 0), oomKilled: false };
    } finally {
      this.running--;
    }
  }

  async destroy(plan: Plan): Promise<void> {
    this.destroyed.push(plan.network.id);
  }

  async removeLeftovers(labels: Record<string, string>): Promise<number> {
    this.leftoverCalls.push(labels);
    return 0;
  }
}
