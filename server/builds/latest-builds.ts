// Each repository's last build, for the repository list (Drone's ?latest=true). A repository's
// counter is the number of its last build (trigger.ts increments it in the transaction that
// creates the build), so one query on the (repoId, number) index finds them all.
import type { Build as BuildRow, Repo as RepoRow } from '../db/generated/sqlite/client.ts';
import type { ServerContext } from '../context.ts';

/** Repositories per query: two bound values each, well inside SQLite's and PostgreSQL's limits. */
const PER_QUERY = 2_000;

export async function latestBuilds(ctx: ServerContext, repos: Pick<RepoRow, 'id' | 'counter'>[]): Promise<Map<number, BuildRow>> {
  const built = repos.filter((r) => r.counter > 0);
  const byRepo = new Map<number, BuildRow>();
  for (let i = 0; i < built.length; i += PER_QUERY) {
    const slice = built.slice(i, i + PER_QUERY);
    const rows = await ctx.db.build.findMany({ where: { OR: slice.map((r) => ({ repoId: r.id, number: r.counter })) } });
    for (const b of rows) byRepo.set(b.repoId, b);
  }
  return byRepo;
}
