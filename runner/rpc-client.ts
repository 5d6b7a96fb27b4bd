// The runner's side of core/protocol.ts: one method per call, every wait abortable.
// Calls that are safe to repeat are retried with backoff on network errors and 5xx;
// long polls are not, since their callers poll again anyway. A 4xx (a malformed body,
// a stage the runner does not hold) is never retried: asking again gets the same answer.
//
// The client keeps the stage token of each stage it accepted (in memory only) and sends it
// on every call about that stage, its steps, and the watch of its build; forget() drops it
// when the runner is done with the stage.
import { randomBytes } from 'node:crypto';
import type { LogLine, Stage, Step } from '../core/domain.ts';
import {
  type AcceptRequest,
  type AcceptResponse,
  type ErrorBody,
  LONG_POLL_MS,
  type PingResponse,
  type RequestResponse,
  RUNNER_HEADER,
  type RunnerInfo,
  rpcPaths,
  STAGE_TOKEN_HEADER,
  type StageDetails,
  type StageUpdate,
  type StepUpdate,
  type WatchResponse,
} from '../core/protocol.ts';

export class RpcError extends Error {
  constructor(
    message: string,
    /** The HTTP status, or 0 when the server could not be reached. */
    readonly status: number,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

/** The server answered 409 to a call naming a stage: the runner does not hold it (any more), or it ended. */
export function isConflict(err: unknown): boolean {
  return err instanceof RpcError && err.status === 409;
}

export type AcceptResult = { accepted: true; stage: Stage } | { accepted: false; reason: 'taken' };

/** What a server from before leases answered a ping with (204): its default lease. */
const PING_WITHOUT_LEASES: PingResponse = { lease_seconds: 60, lost: [] };

export interface RpcClientOptions {
  serverUrl: string;
  /** The Bearer: the server's shared secret, or a runner token issued for this runner's name (both come from HARRIER_RPC_SECRET). */
  secret: string;
  /** The runner's name, sent in RUNNER_HEADER on every call: the server lets only a stage's holder change it. */
  runner?: string;
  /** Attempts for calls that are safe to repeat, the first included. */
  attempts?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Gives up on an ordinary call after this long, and counts it as a network error. */
  timeoutMs?: number;
}

interface CallOptions {
  body?: unknown;
  signal?: AbortSignal;
  retry: boolean;
  longPoll?: boolean;
  /** The stage token to send; looked up when the call is made, so forgetting the stage afterwards does not change it. */
  stageToken?: string;
}

/** A stage this client accepted: its token, and what lets calls about its steps and build find it. */
interface HeldToken {
  token: string;
  /** The server answered an accept with it: a later 409 (another call racing) must not drop it. */
  accepted: boolean;
  buildId?: number;
  steps: Set<number>;
}

const NEVER = new AbortController().signal;

export class RpcClient {
  private readonly baseUrl: string;
  private readonly secret: string;
  private readonly runner: string | undefined;
  private readonly attempts: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly timeoutMs: number;
  private readonly held = new Map<number, HeldToken>();

  constructor(options: RpcClientOptions) {
    this.baseUrl = options.serverUrl.replace(/\/+$/, '');
    this.secret = options.secret;
    this.runner = options.runner;
    this.attempts = options.attempts ?? 6;
    this.retryBaseMs = options.retryBaseMs ?? 250;
    this.retryMaxMs = options.retryMaxMs ?? 5_000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Waits for a stage to run; null when the server's poll window ended first. */
  async request(info: RunnerInfo, signal?: AbortSignal): Promise<Stage | null> {
    const res = await this.call<RequestResponse>('POST', rpcPaths.request, { body: info, signal, retry: false, longPoll: true });
    return res?.stage ?? null;
  }

  /**
   * Claims a stage; `accepted: false` when another runner got it first. Retried like any
   * safe call: the server gives the same runner the same stage again, so an answer lost
   * on the way is not a stage lost.
   */
  async accept(stageId: number, machine: string, signal?: AbortSignal): Promise<AcceptResult> {
    // One token per stage, kept across attempts: asking again after a lost answer must not change it.
    let held = this.held.get(stageId);
    if (!held) {
      held = { token: randomBytes(32).toString('base64url'), accepted: false, steps: new Set() };
      this.held.set(stageId, held);
    }
    const body: AcceptRequest = { machine, token: held.token };
    try {
      const answer = await this.call<AcceptResponse>('POST', rpcPaths.accept(stageId), { body, signal, retry: true });
      if (!answer) throw new RpcError(`POST ${rpcPaths.accept(stageId)}: empty answer`, 204);
      const { token, ...stage } = answer;
      // The answer names the token in force; it is the one sent.
      if (token) held.token = token;
      held.accepted = true;
      // A racing call of the same stage may have dropped it on its 409.
      this.held.set(stageId, held);
      this.learn(stageId, stage);
      return { accepted: true, stage };
    } catch (err) {
      if (err instanceof RpcError && err.status === 409) {
        if (!held.accepted) this.held.delete(stageId);
        return { accepted: false, reason: 'taken' };
      }
      throw err;
    }
  }

  /** Drops the stage's token: the runner is done with the stage. */
  forget(stageId: number): void {
    this.held.delete(stageId);
  }

  /** Records the stage's build and steps, so calls about them carry its token. */
  private learn(stageId: number, stage: Pick<Stage, 'build_id' | 'steps'>): void {
    const held = this.held.get(stageId);
    if (!held) return;
    held.buildId = stage.build_id;
    for (const step of stage.steps ?? []) held.steps.add(step.id);
  }

  private tokenOfStage(stageId: number): string | undefined {
    return this.held.get(stageId)?.token;
  }

  private tokenOfStep(stepId: number): string | undefined {
    for (const held of this.held.values()) if (held.steps.has(stepId)) return held.token;
    return undefined;
  }

  private tokenOfBuild(buildId: number): string | undefined {
    for (const held of this.held.values()) if (held.buildId === buildId) return held.token;
    return undefined;
  }

  /**
   * Hands back a stage whose steps have not started, so another runner can take it.
   * False when the server refused (409): a step started, or the runner does not hold it.
   */
  async release(stageId: number, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.call('POST', rpcPaths.release(stageId), { signal, retry: true, stageToken: this.tokenOfStage(stageId) });
      return true;
    } catch (err) {
      if (err instanceof RpcError && err.status === 409) return false;
      throw err;
    }
  }

  async details(stageId: number, signal?: AbortSignal): Promise<StageDetails> {
    const path = rpcPaths.details(stageId);
    const details = this.required(await this.call<StageDetails>('GET', path, { signal, retry: true, stageToken: this.tokenOfStage(stageId) }), path);
    // Read with care: the answer is what the server sent, not yet checked against the contract.
    if (this.held.has(stageId)) this.learn(stageId, { build_id: details.build?.id, steps: details.stage?.steps });
    return details;
  }

  async updateStage(stageId: number, update: StageUpdate, signal?: AbortSignal): Promise<Stage> {
    const path = rpcPaths.updateStage(stageId);
    return this.required(await this.call<Stage>('POST', path, { body: update, signal, retry: true, stageToken: this.tokenOfStage(stageId) }), path);
  }

  async updateStep(stepId: number, update: StepUpdate, signal?: AbortSignal): Promise<Step> {
    const path = rpcPaths.updateStep(stepId);
    return this.required(await this.call<Step>('POST', path, { body: update, signal, retry: true, stageToken: this.tokenOfStep(stepId) }), path);
  }

  /** Safe to repeat: the server ignores a pos it already has. */
  async sendLogs(stepId: number, lines: LogLine[], signal?: AbortSignal): Promise<void> {
    await this.call('POST', rpcPaths.logs(stepId), { body: lines, signal, retry: true, stageToken: this.tokenOfStep(stepId) });
  }

  /** Waits for the build to be cancelled or finish; null when the poll window ended first. */
  async watch(buildId: number, signal?: AbortSignal): Promise<WatchResponse | null> {
    return this.call<WatchResponse>('POST', rpcPaths.watch(buildId), { signal, retry: false, longPoll: true, stageToken: this.tokenOfBuild(buildId) });
  }

  /** Reports the runner's state and renews its leases; the answer says how often to ping and which stages it lost. */
  async ping(info: RunnerInfo, signal?: AbortSignal): Promise<PingResponse> {
    const answer = await this.call<PingResponse>('POST', rpcPaths.ping, { body: info, signal, retry: true });
    return answer ?? PING_WITHOUT_LEASES;
  }

  private required<T>(value: T | null, path: string): T {
    if (value === null) throw new RpcError(`${path}: the server answered 204 where a body was expected`, 204);
    return value;
  }

  private async call<T>(method: string, path: string, options: CallOptions): Promise<T | null> {
    const signal = options.signal ?? NEVER;
    // A long poll gets the server's window plus slack, so a half-open connection cannot hang it forever.
    const timeoutMs = options.longPoll ? LONG_POLL_MS + 15_000 : this.timeoutMs;
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      let failure: RpcError;
      try {
        const res = await fetch(this.baseUrl + path, {
          method,
          headers: {
            authorization: `Bearer ${this.secret}`,
            ...(this.runner ? { [RUNNER_HEADER]: this.runner } : {}),
            ...(options.stageToken ? { [STAGE_TOKEN_HEADER]: options.stageToken } : {}),
            ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
        });
        if (res.status === 204) return null;
        if (res.ok) {
          const text = await res.text();
          return text ? (JSON.parse(text) as T) : null;
        }
        failure = new RpcError(`${method} ${path}: ${res.status} ${await errorMessage(res)}`, res.status);
        if (res.status < 500) throw failure;
      } catch (err) {
        if (err instanceof RpcError) throw err;
        signal.throwIfAborted();
        failure = new RpcError(`${method} ${path}: cannot reach ${this.baseUrl}: ${describe(err)}`, 0);
      }
      if (!options.retry || attempt >= this.attempts) throw failure;
      await sleep(Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (attempt - 1)) * (0.75 + Math.random() / 2), signal);
    }
  }
}

async function errorMessage(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    return (JSON.parse(text) as ErrorBody).message ?? text;
  } catch {
    return text || res.statusText;
  }
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'timed out';
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal = NEVER): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
