// Lets tests await the deliveries a server they started in this process answered
// (test/fakes/delivered.ts), by reading its database.
import type { DeliveryJson } from '../../core/domain.ts';
import { buildJson } from '../../server/api/serialize.ts';
import type { Db } from '../../server/db/client.ts';
import { watchDeliveries, type DeliveryState } from '../fakes/delivered.ts';

export function watchDatabaseDeliveries(origin: string, db: Db): () => void {
  return watchDeliveries(origin, async (id): Promise<DeliveryState | undefined> => {
    const d = await db.delivery.findUnique({ where: { id } });
    if (!d) return undefined;
    const build = d.buildNumber && d.repoId !== null ? await db.build.findUnique({ where: { repoId_number: { repoId: d.repoId, number: d.buildNumber } } }) : null;
    return { status: d.status, reason: d.reason, build: build ? buildJson(build) : null };
  });
}

/** What these helpers read of a delivery as GET /api/repos/{owner}/{name}/deliveries lists it. */
export type ListedDelivery = Pick<DeliveryJson, 'id' | 'status' | 'reason' | 'build'>;

type ApiGet = <T>(path: string) => Promise<{ status: number; body: T }>;

const HANDLED = ['built', 'ignored', 'failed'];

/** The id a 202 answer to POST /hook gives the stored delivery; throws with the answer for any other. */
export function storedDeliveryId(status: number, text: string): number {
  const answer = status === 202 ? (JSON.parse(text) as { id?: unknown; status?: unknown }) : undefined;
  if (!answer || typeof answer.id !== 'number' || answer.status !== 'pending') throw new Error(`the delivery was not stored for a worker: ${status} ${text}`);
  return answer.id;
}

/**
 * Waits until a worker handled delivery `id` of `slug`, reading the deliveries API with an
 * admin's `get`: for a server in another process, whose database this process cannot read.
 */
export async function awaitListedDelivery(get: ApiGet, slug: string, id: number, timeoutMs = 60_000): Promise<ListedDelivery> {
  const deadline = Date.now() + timeoutMs;
  let last: ListedDelivery | undefined;
  for (;;) {
    last = await findListedDelivery(get, slug, id);
    if (last && HANDLED.includes(last.status)) return last;
    if (Date.now() > deadline) throw new Error(`delivery ${id} of ${slug} was not handled within ${timeoutMs / 1000} s; it is ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The delivery's row in the list, newest first, paging back until ids fall below it. */
async function findListedDelivery(get: ApiGet, slug: string, id: number): Promise<ListedDelivery | undefined> {
  for (let page = 1; ; page++) {
    const res = await get<ListedDelivery[]>(`/api/repos/${slug}/deliveries?per_page=100&page=${page}`);
    if (res.status !== 200) throw new Error(`GET /api/repos/${slug}/deliveries: ${res.status} ${JSON.stringify(res.body)}`);
    const found = res.body.find((d) => d.id === id);
    if (found) return found;
    if (res.body.length < 100 || res.body.some((d) => d.id < id)) return undefined;
  }
}

/** The number of the build delivery `id` made; throws with its status and reason when it made none. */
export async function awaitDeliveredBuild(get: ApiGet, slug: string, id: number, timeoutMs?: number): Promise<number> {
  const d = await awaitListedDelivery(get, slug, id, timeoutMs);
  if (d.build === null) throw new Error(`delivery ${id} of ${slug} made no build: ${d.status}: ${d.reason}`);
  return d.build;
}
