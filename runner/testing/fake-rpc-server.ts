// The server's side of core/protocol.ts, in memory, for runner tests: it queues stages,
// answers long polls the moment something happens, and records every call. Like the real
// server it lets only the runner holding a stage change it (409 otherwise), wants the stage
// token the runner accepted it with on every call about it (403 otherwise), answers pings
// with a lease time and the stages the runner lost, and takes stages back on release.
// Tests make it misbehave on demand: 409 on a path, a lost stage, a dropped accept answer.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LogLine, Stage, Status, Step } from '../../core/domain.ts';
import {
  type AcceptRequest,
  type AcceptResponse,
  type LogBatch,
  linesOf,
  type PingResponse,
  RPC_PREFIX,
  RUNNER_HEADER,
  type RunnerInfo,
  STAGE_TOKEN_HEADER,
  type StageDetails,
  type StageUpdate,
  type StepUpdate,
} from '../../core/protocol.ts';

export interface RecordedCall {
  method: string;
  path: string;
  body: unknown;
  /** The order the server received it in, across every kind of call: proves order without clocks. */
  seq: number;
  /** The RUNNER_HEADER value, '' when absent. */
  runner: string;
  /** The STAGE_TOKEN_HEADER value, '' when absent. */
  stageToken: string;
  /** The status the fake answered; 0 when it dropped the connection instead. */
  status: number;
}

export interface FakeRpcServerOptions {
  secret: string;
  /** How long long polls are held before 204; short in tests so shutdowns are quick. */
  pollWindowMs?: number;
}

type Waiter = () => void;

export class FakeRpcServer {
  readonly calls: RecordedCall[] = [];
  readonly stages = new Map<number, StageDetails>();
  readonly accepted = new Map<number, string>();
  /** The stage token each accepted stage was accepted with. */
  readonly stageTokens = new Map<number, string>();
  readonly logs = new Map<number, LogLine[]>();
  readonly stepUpdates = new Map<number, (StepUpdate & { seq: number })[]>();
  readonly stageUpdates = new Map<number, (StageUpdate & { seq: number })[]>();
  readonly cancelled = new Set<number>();
  /** Stage ids another runner "took": accept answers 409. */
  readonly takenElsewhere = new Set<number>();
  /** Stages the runner no longer holds: the next ping that lists them answers them in `lost`, and calls about them get 409. */
  readonly lostStages = new Set<number>();
  /** For each lost stage, the seq of the ping whose answer told the runner. */
  readonly lostAnswered = new Map<number, number>();
  /** Paths (without the RPC prefix) answered 409, as the server does to a runner that no longer holds the stage. */
  readonly conflictPaths = new Set<string>();
  /** Stage ids whose first accept is carried out but whose answer is lost: the connection drops. */
  readonly dropAcceptAnswer = new Set<number>();
  /** Stage ids handed back with release, in order. */
  readonly released: number[] = [];
  /** The lease time pings are answered with. */
  leaseSeconds = 60;
  /** How long long polls are held before 204; a test may change it. */
  pollWindowMs: number;
  private received = 0;
  private queue: number[] = [];
  private waiters: Waiter[] = [];
  private server: http.Server;
  url = '';

  constructor(private readonly options: FakeRpcServerOptions) {
    this.pollWindowMs = options.pollWindowMs ?? 2_000;
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** How many calls have arrived so far; calls with a higher `seq` came later. */
  get receivedCount(): number {
    return this.received;
  }

  /** Every call that names this stage or one of its steps (not the build's watch). */
  callsAbout(stageId: number): RecordedCall[] {
    const steps = new Set((this.stages.get(stageId)?.stage.steps ?? []).map((s) => s.id));
    return this.calls.filter((c) => this.stageOfPath(c.path) === stageId || steps.has(this.stepOfPath(c.path) ?? -1));
  }

  /** Pings as the runner sent them. */
  pings(): (RunnerInfo & { seq: number })[] {
    return this.calls.filter((c) => c.path === '/ping').map((c) => ({ ...(c.body as RunnerInfo), seq: c.seq }));
  }

  /** Says the runner lost the stage: its next ping is answered so, and calls about it get 409. */
  loseStage(stageId: number): void {
    this.lostStages.add(stageId);
  }

  /** Queues a stage for the next `request`; long polls waiting now get it at once. */
  enqueue(details: StageDetails): void {
    this.stages.set(details.stage.id, details);
    this.queue.push(details.stage.id);
    this.wake();
  }

  cancel(buildId: number): void {
    this.cancelled.add(buildId);
    this.wake();
  }

  /** The log of a step as one string. */
  logText(stepId: number): string {
    return (this.logs.get(stepId) ?? []).map((l) => l.out).join('');
  }

  /** The last status the runner reported for a step. */
  stepStatus(stepId: number): Status | undefined {
    return this.stepUpdates.get(stepId)?.at(-1)?.status;
  }

  stageStatus(stageId: number): Status | undefined {
    return this.stageUpdates.get(stageId)?.at(-1)?.status;
  }

  /** Resolves once `predicate` holds, checking after each call. */
  async until(predicate: () => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('FakeRpcServer.until: condition not met in time');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  private stageOfPath(path: string): number | undefined {
    const m = path.match(/^\/stages\/(\d+)(\/|$)/);
    return m ? Number(m[1]) : undefined;
  }

  private stepOfPath(path: string): number | undefined {
    const m = path.match(/^\/steps\/(\d+)(\/|$)/);
    return m ? Number(m[1]) : undefined;
  }

  /** The stage a call is about: named in the path, or the stage of the step it names. */
  private stageOf(path: string): number | undefined {
    const stage = this.stageOfPath(path);
    if (stage !== undefined) return stage;
    const step = this.stepOfPath(path);
    if (step === undefined) return undefined;
    for (const [id, details] of this.stages) if (details.stage.steps?.some((s) => s.id === step)) return id;
    return undefined;
  }

  private stepStarted(stageId: number): boolean {
    const steps = this.stages.get(stageId)?.stage.steps ?? [];
    return steps.some((s) => (this.stepUpdates.get(s.id) ?? []).some((u) => u.status === 'running'));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Holds a long poll until `ready` gives an answer or the window ends. */
  private async longPoll<T>(req: http.IncomingMessage, ready: () => T | undefined): Promise<T | undefined> {
    const deadline = Date.now() + this.pollWindowMs;
    let closed = false;
    req.socket.once('close', () => {
      closed = true;
      this.wake();
    });
    for (;;) {
      const answer = ready();
      if (answer !== undefined || closed) return answer;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString();
    const body = text ? JSON.parse(text) : undefined;
    const path = (req.url ?? '').replace(RPC_PREFIX, '');
    const seq = ++this.received;
    const runner = req.headers[RUNNER_HEADER] as string | undefined ?? '';
    const stageToken = (req.headers[STAGE_TOKEN_HEADER] as string | undefined) ?? '';
    const call: RecordedCall = { method: req.method ?? '', path, body, seq, runner, stageToken, status: 0 };
    this.calls.push(call);
    const send = (status: number, payload?: unknown) => {
      call.status = status;
      if (payload === undefined) res.writeHead(status).end();
      else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      this.wake();
    };
    if (req.headers.authorization !== `Bearer ${this.options.secret}`) return send(401, { message: 'bad secret' });

    let m: RegExpMatchArray | null;
    if (path === '/request') {
      const id = await this.longPoll(req, () => this.queue.shift());
      return id === undefined ? send(204) : send(200, { stage: this.stages.get(id)!.stage });
    }
    if (path === '/ping') {
      const running = (body as RunnerInfo).running ?? [];
      const lost = running.filter((id) => this.lostStages.has(id));
      for (const id of lost) if (!this.lostAnswered.has(id)) this.lostAnswered.set(id, seq);
      const answer: PingResponse = { lease_seconds: this.leaseSeconds, lost };
      return send(200, answer);
    }
    const stageId = this.stageOf(path);
    // Executor tests run stages nobody accepted; only an accepted stage has a holder to check.
    const holder = stageId === undefined ? undefined : this.accepted.get(stageId);
    if (holder !== undefined && !runner) return send(400, { message: `calls that name a stage or step must carry ${RUNNER_HEADER}` });
    if (this.conflictPaths.has(path)) return send(409, { message: 'conflict on demand' });
    if ((m = path.match(/^\/stages\/(\d+)\/accept$/))) {
      const id = Number(m[1]);
      const { machine, token } = body as AcceptRequest;
      if (!token || token.length < 32) return send(400, { message: 'invalid request body: token: must be 32 to 128 characters' });
      if (this.takenElsewhere.has(id) || this.lostStages.has(id) || (holder !== undefined && holder !== machine)) return send(409, { message: 'stage already accepted' });
      if (holder !== undefined && this.stageTokens.get(id) !== token) return send(409, { message: 'held under another stage token' });
      this.accepted.set(id, machine);
      this.stageTokens.set(id, token);
      if (this.dropAcceptAnswer.delete(id)) {
        res.socket?.destroy();
        this.wake();
        return;
      }
      const answer: AcceptResponse = { ...this.stages.get(id)!.stage, machine, token };
      return send(200, answer);
    }
    // As the server: the holder check first (409: stop), then the stage token (403).
    const tokenWrong = stageId !== undefined && holder !== undefined && holder === runner && this.stageTokens.get(stageId) !== stageToken;
    if ((m = path.match(/^\/stages\/(\d+)\/release$/))) {
      const id = Number(m[1]);
      if ((holder !== undefined && holder !== runner) || this.lostStages.has(id) || this.stepStarted(id)) return send(409, { message: 'not yours to release' });
      if (tokenWrong) return send(403, { message: `wrong or missing ${STAGE_TOKEN_HEADER}` });
      this.accepted.delete(id);
      this.stageTokens.delete(id);
      this.released.push(id);
      this.queue.push(id);
      return send(204);
    }
    if (stageId !== undefined && (this.lostStages.has(stageId) || (holder !== undefined && holder !== runner))) {
      return send(409, { message: `runner ${runner} does not hold stage ${stageId}` });
    }
    if (tokenWrong) return send(403, { message: `wrong or missing ${STAGE_TOKEN_HEADER} for stage ${stageId}` });
    if ((m = path.match(/^\/stages\/(\d+)\/details$/))) return send(200, this.stages.get(Number(m[1])));
    if ((m = path.match(/^\/stages\/(\d+)$/))) {
      const id = Number(m[1]);
      const list = this.stageUpdates.get(id) ?? [];
      list.push({ ...(body as StageUpdate), seq });
      this.stageUpdates.set(id, list);
      return send(200, { ...this.stages.get(id)?.stage, ...(body as StageUpdate) } as Stage);
    }
    if ((m = path.match(/^\/steps\/(\d+)\/logs$/))) {
      const id = Number(m[1]);
      const stored = this.logs.get(id) ?? [];
      for (const line of linesOf(body as LogBatch)) if (!stored.some((l) => l.pos === line.pos)) stored.push(line);
      this.logs.set(id, stored);
      return send(204);
    }
    if ((m = path.match(/^\/steps\/(\d+)$/))) {
      const id = Number(m[1]);
      const list = this.stepUpdates.get(id) ?? [];
      list.push({ ...(body as StepUpdate), seq });
      this.stepUpdates.set(id, list);
      return send(200, { id, ...(body as StepUpdate) } as Partial<Step>);
    }
    if ((m = path.match(/^\/builds\/(\d+)\/watch$/))) {
      const id = Number(m[1]);
      // Executor tests watch builds whose stages nobody accepted; once one is, only its token will do.
      const tokens = [...this.stageTokens].filter(([stage]) => this.stages.get(stage)?.build.id === id).map(([, token]) => token);
      if (tokens.length && !tokens.includes(stageToken)) return send(403, { message: `watching build ${id} needs the token of a stage of it` });
      const cancelled = await this.longPoll(req, () => (this.cancelled.has(id) ? true : undefined));
      return cancelled ? send(200, { cancelled: true, status: 'killed' }) : send(204);
    }
    send(404, { message: `no route ${req.method} ${path}` });
  }
}
