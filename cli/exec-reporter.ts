// The server's side of a stage, for `harrier exec`: what the runner would send over
// RPC (step and stage states, log lines) goes to the terminal instead, each log line
// prefixed with its step's name, and Ctrl-C stands in for a cancel from the web UI.
import type { LogLine, Stage, Status, Step } from '../core/domain.ts';
import type { StageUpdate, StepUpdate, WatchResponse } from '../core/protocol.ts';
import type { StageRpc } from '../runner/execute-stage.ts';

export interface ExecReporterOptions {
  stage: Stage;
  write: (text: string) => void;
  color: boolean;
  /** Aborting it cancels the stage, as a cancel in the web UI would. */
  cancel: AbortSignal;
  now?: () => number;
}

const RESET = '\x1b[0m';
const STEP_COLOURS = ['\x1b[36m', '\x1b[35m', '\x1b[33m', '\x1b[34m', '\x1b[96m', '\x1b[95m', '\x1b[93m', '\x1b[94m'];
const STATUS_COLOURS: Partial<Record<Status, string>> = {
  success: '\x1b[32m',
  failure: '\x1b[31m',
  error: '\x1b[31m',
  killed: '\x1b[31m',
  skipped: '\x1b[2m',
};

export class ExecReporter implements StageRpc {
  /** The last update of each step, by step name. */
  readonly steps = new Map<string, StepUpdate>();
  stageResult: StageUpdate | undefined;
  private readonly byId: Map<number, Step>;
  private readonly colours = new Map<number, string>();
  private readonly startedMs = new Map<number, number>();
  private stageStartedMs = 0;
  private readonly now: () => number;

  constructor(private readonly opts: ExecReporterOptions) {
    this.byId = new Map((opts.stage.steps ?? []).map((s) => [s.id, s]));
    [...this.byId.keys()].forEach((id, i) => this.colours.set(id, STEP_COLOURS[i % STEP_COLOURS.length]));
    this.now = opts.now ?? Date.now;
  }

  async updateStage(_stageId: number, update: StageUpdate): Promise<void> {
    const name = `pipeline ${JSON.stringify(this.opts.stage.name)}`;
    if (update.status === 'running') {
      this.stageStartedMs = this.now();
      this.opts.write(`${this.paint(name, '\x1b[1m')} started\n`);
      return;
    }
    this.stageResult = update;
    const took = this.stageStartedMs ? `in ${seconds(this.now() - this.stageStartedMs)}` : '';
    const error = update.error ? `: ${update.error.includes('\n') ? `\n${update.error}` : update.error}` : '';
    this.opts.write(`${this.paint(name, '\x1b[1m')}: ${this.status(update.status)}${took ? ` ${took}` : ''}${error}\n`);
  }

  async updateStep(stepId: number, update: StepUpdate): Promise<void> {
    const step = this.byId.get(stepId);
    if (!step) return;
    this.steps.set(step.name, update);
    if (update.status === 'running') {
      this.startedMs.set(stepId, this.now());
      return;
    }
    const details: string[] = [];
    if (update.exit_code) details.push(`exit code ${update.exit_code}`);
    const began = this.startedMs.get(stepId);
    if (began !== undefined) details.push(seconds(this.now() - began));
    const error = update.error ? `: ${update.error}` : '';
    const ignored = step.errignore && (update.status === 'failure' || update.status === 'error') ? ', ignored (failure: ignore)' : '';
    this.opts.write(`${this.prefix(step)} ${this.status(update.status)}${error}${details.length ? ` (${details.join(', ')})` : ''}${ignored}\n`);
  }

  async sendLogs(stepId: number, lines: LogLine[]): Promise<void> {
    const step = this.byId.get(stepId);
    if (!step) return;
    const prefix = this.prefix(step);
    this.opts.write(lines.map((l) => `${prefix} ${l.out.endsWith('\n') ? l.out : `${l.out}\n`}`).join(''));
  }

  /** Answers when Ctrl-C cancels the stage, or with null once the stage is over (`signal`). */
  watch(_buildId: number, signal?: AbortSignal): Promise<WatchResponse | null> {
    const { cancel } = this.opts;
    if (cancel.aborted) return Promise.resolve({ cancelled: true, status: 'killed' });
    return new Promise((resolve) => {
      const done = (answer: WatchResponse | null) => {
        cancel.removeEventListener('abort', onCancel);
        signal?.removeEventListener('abort', onEnd);
        resolve(answer);
      };
      const onCancel = () => done({ cancelled: true, status: 'killed' });
      const onEnd = () => done(null);
      cancel.addEventListener('abort', onCancel, { once: true });
      signal?.addEventListener('abort', onEnd, { once: true });
      if (signal?.aborted) onEnd();
    });
  }

  private prefix(step: Step): string {
    return this.paint(`[${step.name}]`, this.colours.get(step.id));
  }

  private status(status: Status): string {
    return this.paint(status, STATUS_COLOURS[status]);
  }

  private paint(text: string, colour: string | undefined): string {
    return this.opts.color && colour ? `${colour}${text}${RESET}` : text;
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
