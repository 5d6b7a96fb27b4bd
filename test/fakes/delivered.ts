// What a test gets back from delivering a webhook: the server's answer (202 with the
// stored delivery's id, or 200/4xx), and a way to wait for what became of the delivery
// once a worker handled it: the build it made, or why it made none.
//
// The waiting needs to read the server's database, which a provider stand-in cannot:
// the test harness that started the server registers a lookup for its origin
// (watchDeliveries), and the answer's URL finds it.
import type { Build } from '../../core/domain.ts';

export interface DeliveryOutcome {
  /** The stored delivery's id; null for a delivery about no repository Harrier has. */
  id: number | null;
  /** built, ignored or failed. */
  status: string;
  reason: string;
  /** The build it made, as GET /api/repos/{owner}/{name}/builds/{number} has it without stages. */
  build: Build | null;
}

/** The delivery's row as the lookup finds it; undefined while it is unknown. */
export interface DeliveryState {
  status: string;
  reason: string;
  build: Build | null;
}

export type DeliveryLookup = (id: number) => Promise<DeliveryState | undefined>;

const lookups = new Map<string, DeliveryLookup>();

/** Lets deliveries answered by the server at `origin` be awaited; returns the unregister call. */
export function watchDeliveries(origin: string, lookup: DeliveryLookup): () => void {
  const key = new URL(origin).origin;
  lookups.set(key, lookup);
  return () => {
    if (lookups.get(key) === lookup) lookups.delete(key);
  };
}

export type DeliveredResponse = Response & {
  /** Waits until a worker handled the delivery (at once for one answered as ignored). Throws for an answer that refused it. */
  outcome(timeoutMs?: number): Promise<DeliveryOutcome>;
  /** The build the delivery made; throws with the outcome when it made none. */
  build(timeoutMs?: number): Promise<Build>;
};

const FINAL = ['built', 'ignored', 'failed'];

export async function waitForDelivery(url: string, id: number, timeoutMs = 30_000): Promise<DeliveryState> {
  const origin = new URL(url).origin;
  const lookup = lookups.get(origin);
  if (!lookup) throw new Error(`no test harness watches the deliveries of ${origin}; call watchDeliveries for it`);
  const deadline = Date.now() + timeoutMs;
  let last: DeliveryState | undefined;
  for (;;) {
    last = await lookup(id);
    if (last && FINAL.includes(last.status)) return last;
    if (Date.now() > deadline) throw new Error(`delivery ${id} at ${origin} was not handled within ${timeoutMs / 1000} s; it is ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Adds outcome() and build() to the server's answer to a delivery. */
export async function delivered(url: string, res: Response): Promise<DeliveredResponse> {
  // Read now, from a copy: the test may read the answer itself first.
  const text = await res.clone().text();
  let settled: Promise<DeliveryOutcome> | undefined;
  const outcome = (timeoutMs?: number) =>
    (settled ??= (async () => {
      if (res.status !== 200 && res.status !== 202) throw new Error(`the delivery was refused: ${res.status} ${text}`);
      const answer = JSON.parse(text) as { id?: number; status?: string; message?: string };
      if (answer.id === undefined) return { id: null, status: 'ignored', reason: answer.message ?? '', build: null };
      const state = await waitForDelivery(url, answer.id, timeoutMs);
      return { id: answer.id, ...state };
    })());
  return Object.assign(res, {
    outcome,
    async build(timeoutMs?: number) {
      const o = await outcome(timeoutMs);
      if (!o.build) throw new Error(`delivery ${o.id} made no build: ${o.status}: ${o.reason}`);
      return o.build;
    },
  });
}

/**
 * POSTs a delivery as a provider does. A connection the server closed as idle just as
 * the request went out (a keep-alive race, seen on a loaded machine) is retried once
 * with the same delivery id: a provider's retry, which the server handles once.
 */
export async function postDelivery(url: string, headers: Record<string, string>, body: Buffer): Promise<DeliveredResponse> {
  const send = () => fetch(url, { method: 'POST', headers, body });
  let res: Response;
  try {
    res = await send();
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET') throw err;
    res = await send();
  }
  return delivered(url, res);
}
