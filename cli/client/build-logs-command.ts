// `harrier build logs owner/name 42 [stage] [step] [--follow]`: drone's `build logs`, whose
// stage and step are numbers; here they may also be names, and left out they mean every
// stage, or every step of the stage. --follow reads each step's live log (Server-Sent
// Events) in order until the step is done, reconnecting after the last line it printed.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { Build, LogLine, Stage, Step } from '../../core/domain.ts';
import { UsageError, type CommandIO } from '../command-io.ts';
import { act, clientCommand, repoArg, type ClientContext } from './client-command.ts';
import { ClientError, repoPath, UnreachableError, type HarrierClient } from './harrier-client.ts';
import type { Format } from './output.ts';
import { fetchBuild } from './build-ref.ts';

/** Reconnections in a row, without a line in between, before --follow gives up. */
const MAX_RECONNECTS = 5;
const RECONNECT_PAUSE_MS = 1000;

interface Selected {
  stage: Stage;
  step: Step;
}

export function addBuildLogsCommand(build: Command, ctx: ClientContext): void {
  clientCommand(build, 'logs', 'print the logs of a build, a stage or a step (--follow: live, until they finish)')
    .argument('<repo>', 'owner/name')
    .argument('<build>', 'build number, or last')
    .argument('[stage]', 'stage number or name (default: every stage)')
    .argument('[step]', 'step number or name (default: every step of the stage)')
    .option('-f, --follow', 'keep printing lines as the steps print them, until they finish')
    .action(
      act(ctx, async ({ args, opts, client, format, io }) => {
        const slug = repoArg(args[0]);
        const build = await fetchBuild(client, slug, args[1]);
        const selected = select(build, args[2], args[3]);
        // One step prints its lines as they are; several say whose each line is.
        const prefix = (s: Selected) => (args[3] !== undefined ? '' : args[2] !== undefined ? `[${s.step.name}] ` : `[${s.stage.name}/${s.step.name}] `);
        const base = (s: Selected) => `${repoPath(slug)}/${build.number}/${s.stage.number}/${s.step.number}`;
        if (opts.follow) {
          for (const s of selected) {
            await followStep(client, `/api/stream/${base(s)}`, (line) => printLine(io, format, s, prefix(s), line));
          }
          return;
        }
        const logs: { stage: number; step: number; name: string; lines: LogLine[] }[] = [];
        for (const s of selected) {
          const lines = await client.get<LogLine[]>(`/api/repos/${repoPath(slug)}/builds/${build.number}/logs/${s.stage.number}/${s.step.number}`);
          if (format === 'table') lines.forEach((line) => printLine(io, format, s, prefix(s), line));
          logs.push({ stage: s.stage.number, step: s.step.number, name: s.step.name, lines });
        }
        // Drone's JSON for one step; for several, each step's lines under its numbers.
        if (format === 'json') io.stdout(`${JSON.stringify(args[3] !== undefined ? logs[0].lines : logs, null, 2)}\n`);
      }),
    );
}

function printLine(io: CommandIO, format: Format, s: Selected, prefix: string, line: LogLine): void {
  if (format === 'json') io.stdout(`${JSON.stringify({ stage: s.stage.number, step: s.step.number, ...line })}\n`);
  else io.stdout(`${prefix}${line.out.endsWith('\n') ? line.out : `${line.out}\n`}`);
}

function select(build: Build, stageArg: string | undefined, stepArg: string | undefined): Selected[] {
  const stages = build.stages ?? [];
  const chosen = stageArg === undefined ? stages : [pick(stages, stageArg, `build ${build.number} has no stage`)];
  return chosen.flatMap((stage) => {
    const steps = stage.steps ?? [];
    const picked = stepArg === undefined ? steps : [pick(steps, stepArg, `stage ${stage.number} (${stage.name}) of build ${build.number} has no step`)];
    return picked.map((step) => ({ stage, step }));
  });
}

function pick<T extends { number: number; name: string }>(items: T[], given: string, missing: string): T {
  const found = /^\d+$/.test(given) ? items.find((i) => i.number === Number(given)) : items.find((i) => i.name === given);
  if (!found) throw new UsageError(`${missing} ${JSON.stringify(given)}; it has ${items.map((i) => `${i.number} ${i.name}`).join(', ') || 'none'}`);
  return found;
}

/** Prints the step's live log until its `done` event; a dropped stream resumes after the last line. */
async function followStep(client: HarrierClient, path: string, onLine: (line: LogLine) => void): Promise<void> {
  let last: number | undefined;
  let failures = 0;
  for (;;) {
    let progressed = false;
    try {
      for await (const event of client.events(path, { lastEventId: last === undefined ? undefined : String(last) })) {
        if (event.event === 'done') return;
        if (event.event !== 'message') continue;
        const line = JSON.parse(event.data) as LogLine;
        if (last !== undefined && line.pos <= last) continue;
        onLine(line);
        last = line.pos;
        progressed = true;
      }
    } catch (err) {
      // A refusal (401, 404) will not change by asking again; a dropped connection may.
      if (err instanceof ClientError && !(err instanceof UnreachableError)) throw err;
      if (failures + 1 >= MAX_RECONNECTS) throw err;
    }
    failures = progressed ? 0 : failures + 1;
    if (failures >= MAX_RECONNECTS) throw new ClientError(`the live log at ${path} keeps ending before its step finished; try again, or read it without --follow`);
    await sleep(RECONNECT_PAUSE_MS);
  }
}
