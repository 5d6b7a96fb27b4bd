// The provider token the server acts with for a repository: that of the user who
// activated it (Drone does the same).
import type { ServerContext } from '../context.ts';
import type { Repo as RepoRow } from '../db/generated/sqlite/client.ts';
import { noteScmRefusal, scmTokenFor } from '../auth/scm-token.ts';
import { HttpError } from '../http/errors.ts';

async function owner(ctx: ServerContext, repo: Pick<RepoRow, 'userId' | 'slug'>) {
  const user = repo.userId ? await ctx.db.user.findUnique({ where: { id: repo.userId } }) : null;
  if (!user) throw new HttpError(409, `${repo.slug} has no owner in Harrier; deactivate and activate it again`);
  return user;
}

export async function repoToken(ctx: ServerContext, repo: Pick<RepoRow, 'userId' | 'slug'>): Promise<string> {
  return scmTokenFor(ctx, await owner(ctx, repo));
}

/**
 * Calls the provider with the repository's token. A 401 means the provider no longer
 * accepts its owner's grant: the owner is marked refused (fail closed, as when they browse)
 * before the error goes on.
 */
export async function asRepoOwner<T>(ctx: ServerContext, repo: Pick<RepoRow, 'userId' | 'slug'>, call: (token: string) => Promise<T>): Promise<T> {
  const user = await owner(ctx, repo);
  try {
    return await call(await scmTokenFor(ctx, user));
  } catch (err) {
    await noteScmRefusal(ctx, user, err);
    throw err;
  }
}
