// The provider token the server acts with for a repository: that of the user who
// activated it (Drone does the same).
import type { ServerContext } from '../context.ts';
import type { Repo as RepoRow } from '../db/generated/sqlite/client.ts';
import { scmTokenFor } from '../auth/scm-token.ts';
import { HttpError } from '../http/errors.ts';

export async function repoToken(ctx: ServerContext, repo: Pick<RepoRow, 'userId' | 'slug'>): Promise<string> {
  const user = repo.userId ? await ctx.db.user.findUnique({ where: { id: repo.userId } }) : null;
  if (!user) throw new HttpError(409, `${repo.slug} has no owner in Harrier; deactivate and activate it again`);
  return scmTokenFor(ctx, user);
}
