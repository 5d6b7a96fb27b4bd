// Runs a client command in-process, as `harrier ARGS…` runs it, against the server of a test
// scenario with its user's personal token, and keeps what it printed and its exit code.
import os from 'node:os';
import { afterAll, beforeAll } from 'vitest';
import { githubScenario, type GithubScenario, type ScenarioOptions } from '../../test/support/scenario.ts';
import { runClientCommand } from '../client/client-program.ts';
import { captureIO } from './command-io.ts';

export interface Ran {
  code: number;
  out: string;
  err: string;
  /** stdout read as the JSON `--format json` prints. */
  json<T>(): T;
}

export type Harrier = (args: string[], env?: NodeJS.ProcessEnv) => Promise<Ran>;

/** `harrier` for a server and token known only once the scenario has started. */
export function harrierFor(connection: () => { server: string; token: string }, cwd: () => string = os.tmpdir): Harrier {
  return async (args, env) => {
    const { server, token } = connection();
    const io = captureIO(cwd(), env ?? { HARRIER_SERVER: server, HARRIER_TOKEN: token });
    const code = await runClientCommand(args, io);
    return { code, out: io.out(), err: io.err(), json: <T>() => JSON.parse(io.out()) as T };
  };
}

/**
 * A GitHub scenario for the enclosing describe, started before its tests and closed after
 * them, and `harrier` against its server with its user's token. The getter reads it in a test.
 */
export function useClientScenario(opts: ScenarioOptions): { scenario: () => GithubScenario; harrier: Harrier } {
  let s: GithubScenario | undefined;
  beforeAll(async () => {
    s = await githubScenario(opts);
  });
  afterAll(async () => {
    await s?.close();
  });
  const scenario = () => s!;
  return { scenario, harrier: harrierFor(() => ({ server: scenario().server.host, token: scenario().token })) };
}
