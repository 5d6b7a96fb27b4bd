// The repositories deliveries name, found with one query for all that arrive together.
import type { Db } from '../db/client.ts';
import type { Repo as RepoRow } from '../db/generated/sqlite/client.ts';

export interface HookRepoKey {
  provider: string;
  /** The provider's id of the repository; empty when the delivery has none. */
  uid: string;
  slug: string;
}

/** For each key: the repository with its provider's id, else the one with its slug, else null. */
export async function hookRepos(db: Pick<Db, 'repo'>, keys: HookRepoKey[]): Promise<(RepoRow | null)[]> {
  const providers = [...new Set(keys.map((k) => k.provider))];
  const rows = await db.repo.findMany({
    where: {
      OR: providers.flatMap((provider) => {
        const mine = keys.filter((k) => k.provider === provider);
        const uids = [...new Set(mine.map((k) => k.uid).filter(Boolean))];
        const slugs = [...new Set(mine.map((k) => k.slug))];
        return [...(uids.length ? [{ provider, uid: { in: uids } }] : []), { provider, slug: { in: slugs } }];
      }),
    },
  });
  return keys.map(
    (k) => (k.uid && rows.find((r) => r.provider === k.provider && r.uid === k.uid)) || rows.find((r) => r.provider === k.provider && r.slug === k.slug) || null,
  );
}
