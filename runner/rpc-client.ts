// The runner's side of core/protocol.ts: one method per call, every wait abortable.
// Calls that are safe to repeat are retried with backoff on network errors and 5xx;
// long polls are not, since their callers poll again anyway. A 4xx (a malformed body,
// a stage the runner does not hold) is never retried: asking again gets the same answer.
//
// The client keeps the stage token of each stage it accepted (in memory only) and sends it
// on every call about that stage, its steps, and the watch of its build; forget() drops it
// when the runner is done with the stage.
//
// Requests go out through node:http(s) on kept-alive connections rather than fetch: fetch
// copies a request body on its way through web streams, which for a loud step's log
// batches cost the runner a third of its CPU and 50 MB (bench/runner-log-path.ts).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
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
  toLogBatch,
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
  private readonly agent: http.Agent;

  constructor(options: RpcClientOptions) {
    this.baseUrl = options.serverUrl.replace(/\/+$/, '');
    // Idle connections close after 4 s as fetch's did (sooner when the server's Keep-Alive says
    // so), so a long poll does not go out on one a proxy has dropped.
    const agentOptions = { keepAlive: true, timeout: 4_000 };
    this.agent = this.baseUrl.startsWith('https:') ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
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
    await this.call('POST', rpcPaths.logs(stepId), { body: toLogBatch(lines), signal, retry: true, stageToken: this.tokenOfStep(stepId) });
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
    // Encoded once for all attempts. Kept a string: a Buffer of a big log batch would be a
    // new large allocation per request, which costs more than writing the text to the socket.
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      let failure: RpcError;
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        const headers: Record<string, string> = {
          authorization: `Bearer ${this.secret}`,
          ...(this.runner ? { [RUNNER_HEADER]: this.runner } : {}),
          ...(options.stageToken ? { [STAGE_TOKEN_HEADER]: options.stageToken } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        };
        const res = await exchange(this.baseUrl + path, this.agent, method, headers, body, AbortSignal.any([signal, timeout]));
        if (res.status === 204) return null;
        if (res.status >= 200 && res.status < 300) return res.text ? (JSON.parse(res.text) as T) : null;
        failure = new RpcError(`${method} ${path}: ${res.status} ${errorMessage(res.text, res.statusText)}`, res.status);
        if (res.status < 500) throw failure;
      } catch (err) {
        if (err instanceof RpcError) throw err;
        signal.throwIfAborted();
        failure = new RpcError(`${method} ${path}: cannot reach ${this.baseUrl}: ${timeout.aborted ? 'timed out' : describe(err)}`, 0);
      }
      if (!options.retry || attempt >= this.attempts) throw failure;
      await sleep(Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (attempt - 1)) * (0.75 + Math.random() / 2), signal);
    }
  }
}

interface Answer {
  status: number;
  statusText: string;
  text: string;
}

/** One request and its whole answer; rejects on a network error or when `signal` aborts. */
function exchange(url: string, agent: http.Agent, method: string, headers: Record<string, string>, body: string | undefined, signal: AbortSignal): Promise<Answer> {
  const request = url.startsWith('https:') ? https.request : http.request;
  const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, signal, headers: { ...headers, ...length } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text: Buffer.concat(parts).toString('utf8') }));
      // Cut off mid-answer (the server went, or the signal aborted): 'end' never comes.
      res.on('close', () => {
        if (!res.complete) reject(new Error('the connection closed before the answer ended'));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function errorMessage(text: string, statusText: string): string {
  try {
    return (JSON.parse(text) as ErrorBody).message ?? text;
  } catch {
    return text || statusText;
  }
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string } };
  return e.code ?? e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
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
