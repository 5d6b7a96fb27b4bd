// A runner played by the test over the real runner protocol (runner/rpc-client.ts): it takes
// the next queued stage and reports what its steps did and printed. For tests about what the
// server, the command line or a page make of a run, not about running steps: they need no
// runner process and no Docker, and each outcome is the test's choice.
import type { Stage, Status } from '../../core/domain.ts';
import type { RunnerInfo, StageDetails } from '../../core/protocol.ts';
import { RpcClient } from '../../runner/rpc-client.ts';

export const PROTOCOL_RUNNER: RunnerInfo = { name: 'protocol-test-runner', labels: {}, capacity: 1, running: [], os: 'linux', arch: 'amd64', version: 'test' };

export interface TakenStage {
  rpc: RpcClient;
  stage: Stage;
  details: StageDetails;
}

const now = () => Math.floor(Date.now() / 1000);

/**
 * Takes the next queued stage as a runner does (request, accept, details) and reports it
 * running. Each take is a runner process of its own, with its own stage tokens, so a stage
 * taken again after a retry is accepted afresh.
 */
export async function takeStage(serverUrl: string, rpcSecret: string, runner: RunnerInfo = PROTOCOL_RUNNER): Promise<TakenStage> {
  const rpc = new RpcClient({ serverUrl, secret: rpcSecret, runner: runner.name, attempts: 1 });
  const stage = await rpc.request(runner);
  if (!stage) throw new Error(`no stage was offered to runner ${runner.name} at ${serverUrl} within the server's poll window`);
  const accepted = await rpc.accept(stage.id, runner.name);
  if (!accepted.accepted) throw new Error(`stage ${stage.id} (${stage.name}) was taken by another runner`);
  const details = await rpc.details(stage.id);
  await rpc.updateStage(stage.id, { status: 'running', started: now() });
  return { rpc, stage, details };
}

/**
 * Ends a taken stage with `status`: each step runs in order and prints its lines of `printed`
 * (by step name); the steps before the last pass, the last ends with `status`, as does the stage.
 */
export async function finishStage({ rpc, stage, details }: TakenStage, status: Status, printed: Record<string, string[]> = {}): Promise<void> {
  const steps = details.stage.steps ?? [];
  const exitCode = status === 'success' ? 0 : 1;
  for (const [i, step] of steps.entries()) {
    const started = now();
    await rpc.updateStep(step.id, { status: 'running', started });
    const lines = printed[step.name] ?? [];
    if (lines.length) await rpc.sendLogs(step.id, lines.map((line, pos) => ({ pos, out: `${line}\n`, time: pos })));
    const last = i === steps.length - 1;
    await rpc.updateStep(step.id, { status: last ? status : 'success', exit_code: last ? exitCode : 0, started, stopped: now() });
  }
  await rpc.updateStage(stage.id, { status, exit_code: exitCode, stopped: now() });
}
