// Lets tests await the deliveries a server they started in this process answered
// (test/fakes/delivered.ts), by reading its database.
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
