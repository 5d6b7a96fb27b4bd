// What `harrier lint` and `harrier exec` share with the terminal: where they write,
// the pipeline file they read, the exit codes they end with, and Ctrl-C. Commands take
// a CommandIO instead of touching process.* so tests can run them in-process.
import fs from 'node:fs';
import path from 'node:path';

/** Everything went well (lint: no errors; exec: every pipeline that ran succeeded). */
export const EXIT_OK = 0;
/** Lint found errors; exec: the file is invalid, or a pipeline failed. */
export const EXIT_PROBLEMS = 1;
/** The command could not start: bad options, the file cannot be read, no Docker engine. */
export const EXIT_USAGE = 2;
/** Stopped by Ctrl-C (128 + SIGINT) or SIGTERM (128 + SIGTERM), as shells report it. */
export const EXIT_SIGNAL = { SIGINT: 130, SIGTERM: 143 } as const;

export const DEFAULT_PIPELINE_FILE = '.drone.yml';

export interface CommandIO {
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stdout takes ANSI colours (a terminal, and NO_COLOR unset). */
  color: boolean;
  env: NodeJS.ProcessEnv;
}

export function processIO(): CommandIO {
  return {
    cwd: process.cwd(),
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
    env: process.env,
  };
}

/** A mistake in how the command was called; it ends with EXIT_USAGE and this message. */
export class UsageError extends Error {}

export interface PipelineFile {
  /** As the user wrote it: the FILE of `FILE:LINE:COL`. */
  display: string;
  absolute: string;
  text: string;
}

export function readPipelineFile(file: string, cwd: string): PipelineFile {
  const absolute = path.resolve(cwd, file);
  try {
    return { display: file, absolute, text: fs.readFileSync(absolute, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const hint = file === DEFAULT_PIPELINE_FILE ? '; run it in a repository with a .drone.yml, or name the file (harrier exec .drone.yml.example)' : '';
      throw new UsageError(`${file}: no such file (looked in ${path.dirname(absolute)})${hint}`);
    }
    if (code === 'EISDIR') throw new UsageError(`${file} is a folder; name the pipeline file in it, e.g. ${path.join(file, DEFAULT_PIPELINE_FILE)}`);
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** `NAME=VALUE` pairs of a repeatable option; `what` names the option in messages. */
export function parseAssignments(values: string[], what: string, fromEnv?: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of values) {
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    if (!name) throw new UsageError(`${what} ${JSON.stringify(item)} has no name: write ${what} NAME=VALUE`);
    if (eq >= 0) out[name] = item.slice(eq + 1);
    else if (fromEnv?.[name] !== undefined) out[name] = fromEnv[name]!;
    else throw new UsageError(`${what} ${name} has no value: write ${what} ${name}=VALUE${fromEnv ? `, or set the environment variable ${name}` : ''}`);
  }
  return out;
}

/**
 * Aborts with the signal's name on the first Ctrl-C or SIGTERM, so the command can stop
 * its containers and clean up; a second one exits at once, leaving them behind.
 */
export function interruptSignal(io: CommandIO): AbortSignal {
  const controller = new AbortController();
  const onSignal = (name: keyof typeof EXIT_SIGNAL) => {
    if (controller.signal.aborted) {
      io.stderr(`harrier: ${name} again: exiting without cleaning up (containers labelled io.harrier.managed may be left)\n`);
      process.exit(EXIT_SIGNAL[name]);
    }
    io.stderr(`harrier: ${name}: stopping the containers and cleaning up (press Ctrl-C again to quit at once)\n`);
    controller.abort(name);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  return controller.signal;
}
