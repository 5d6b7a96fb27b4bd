// Every delivery names its repository's privacy (GitHub's repository.private, Bitbucket's
// repository.is_private), so a repository made private at the provider is private in
// Harrier with the next delivery, not at the next sync: anonymous users lose access at once.
//
// The rule is the repository sync's (api/repo-sync.ts saveScmRepo): visibility is Harrier's
// own setting (an admin may open a private repository's builds to everyone, as in Drone)
// and follows the provider again only when the privacy changes there. Made private, a
// repository becomes private (internal for a GitHub internal repository); made public, it
// becomes public, because the provider then shows its code to everyone anyway.
import type { ServerContext } from '../context.ts';
import type { Repo as RepoRow } from '../db/generated/sqlite/client.ts';
import type { HookPrivacy } from '../providers/parse-hook.ts';

/** Stores the delivered privacy when it differs from the row's; returns the row as it is now. Call only for a verified delivery. */
export async function applyDeliveredPrivacy(ctx: ServerContext, repo: RepoRow, privacy: HookPrivacy | undefined): Promise<RepoRow> {
  if (!privacy || privacy.private === repo.private) return repo;
  const now = ctx.now();
  // Conditional on the privacy it leaves, so a concurrent sync that already moved it wins.
  const { count } = await ctx.db.repo.updateMany({
    where: { id: repo.id, private: repo.private },
    data: { private: privacy.private, visibility: privacy.visibility, updatedAt: now, version: { increment: 1 } },
  });
  if (count) {
    ctx.logger.info(
      { event: 'repo_privacy_changed', repo: repo.slug, private: privacy.private, visibility: privacy.visibility },
      `the provider says ${repo.slug} is now ${privacy.private ? 'private' : 'public'}; its visibility is ${privacy.visibility}`,
    );
  }
  return (await ctx.db.repo.findUnique({ where: { id: repo.id } })) ?? repo;
}
