// A Backend without an engine, for tests of the runner loop: a step "runs" for the
// milliseconds in its SLEEP_MS variable, or until it is aborted.
import type { Plan, PlanStep } from '../../pipeline/types.ts';
import type { Backend, StepOutput, StepResult } from '../backend/backend.ts';

export class FakeBackend implements Backend {
  running = 0;
  maxRunning = 0;
  destroyed: string[] = [];
  leftoverCalls: Record<string, string>[] = [];

  async setup(): Promise<void> {}

  async run(_plan: Plan, step: PlanStep, output: StepOutput, signal: AbortSignal): Promise<StepResult> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      await output(Buffer.from(`running ${step.name}\n`));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, Number(step.env.SLEEP_MS ?? 0));
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
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
