// The server's side of core/protocol.ts, in memory, for runner tests: it queues stages,
// answers long polls the moment something happens, and records every call.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LogLine, Stage, Status, Step } from '../../core/domain.ts';
import { RPC_PREFIX, type StageDetails, type StageUpdate, type StepUpdate } from '../../core/protocol.ts';

export interface RecordedCall {
  method: string;
  path: string;
  body: unknown;
  /** The order the server received it in, across every kind of call: proves order without clocks. */
  seq: number;
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
  readonly logs = new Map<number, LogLine[]>();
  readonly stepUpdates = new Map<number, (StepUpdate & { seq: number })[]>();
  readonly stageUpdates = new Map<number, (StageUpdate & { seq: number })[]>();
  readonly cancelled = new Set<number>();
  /** Stage ids another runner "took": accept answers 409. */
  readonly takenElsewhere = new Set<number>();
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
    this.calls.push({ method: req.method ?? '', path, body, seq });
    const send = (status: number, payload?: unknown) => {
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
    if (path === '/ping') return send(204);
    if ((m = path.match(/^\/stages\/(\d+)\/accept$/))) {
      const id = Number(m[1]);
      if (this.takenElsewhere.has(id) || this.accepted.has(id)) return send(409, { message: 'stage already accepted' });
      this.accepted.set(id, (body as { machine: string }).machine);
      return send(200, { ...this.stages.get(id)!.stage, machine: (body as { machine: string }).machine });
    }
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
      for (const line of body as LogLine[]) if (!stored.some((l) => l.pos === line.pos)) stored.push(line);
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
      const cancelled = await this.longPoll(req, () => (this.cancelled.has(id) ? true : undefined));
      return cancelled ? send(200, { cancelled: true, status: 'killed' }) : send(204);
    }
    send(404, { message: `no route ${req.method} ${path}` });
  }
}
