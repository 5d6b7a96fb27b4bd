// A build's steps are written with a few multi-row INSERTs. Prisma's nested and bulk
// creates build each row in its query engine on the event loop: 900 steps held it for
// 300 ms to over a second on PostgreSQL, stalling every other request of the server.
import type { Flavour } from '../db/flavour.ts';
import type { Prisma } from '../db/generated/sqlite/client.ts';

export interface StepRecord {
  number: number;
  name: string;
  status: string;
  image: string;
  detached: boolean;
  errignore: boolean;
  dependsOn: string;
}

const COLUMNS = ['stageId', 'number', 'name', 'status', 'image', 'detached', 'errignore', 'dependsOn'] as const;
const ROWS_PER_INSERT = 200;

/** Inserts the steps of one stage inside the caller's transaction; the other columns take their defaults. */
export async function insertSteps(tx: Prisma.TransactionClient, flavour: Flavour, stageId: number, steps: StepRecord[]): Promise<void> {
  for (let i = 0; i < steps.length; i += ROWS_PER_INSERT) {
    const chunk = steps.slice(i, i + ROWS_PER_INSERT);
    const marker = (n: number) => (flavour === 'postgres' ? `$${n}` : '?');
    const values = chunk.map((_, row) => `(${COLUMNS.map((_, col) => marker(row * COLUMNS.length + col + 1)).join(', ')})`).join(', ');
    const params = chunk.flatMap((s) => [stageId, s.number, s.name, s.status, s.image, s.detached, s.errignore, s.dependsOn]);
    await tx.$executeRawUnsafe(`INSERT INTO "Step" (${COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES ${values}`, ...params);
  }
}
