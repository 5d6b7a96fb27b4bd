// The provider is the source of truth for which repositories exist and who may
// do what with them. This copies a user's view of it into Repo and Perm rows:
// on sign-in, when the copy is older than SYNC_INTERVAL_SECONDS, or on request.
import type { Permission, Provider } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import type { PermRow, RepoRow, UserRow } from '../http/request.ts';
import { scmTokenFor } from '../auth/scm-token.ts';
import type { ScmRepo } from '../providers/scm.ts';

export const SYNC_INTERVAL_SECONDS = 10 * 60;

export function syncIsStale(ctx: ServerContext, syncedAt: number): boolean {
  return syncedAt + SYNC_INTERVAL_SECONDS <= ctx.now();
}

// One sync per user at a time in this process: sign-in and the first repos list
// often race, and two syncs of the same rows would only contend for them.
const running = new Map<number, Promise<void>>();

/** Fetches the user's repositories from the provider and stores them with the user's permissions. */
export function syncUserRepos(ctx: ServerContext, user: UserRow): Promise<void> {
  const pending = running.get(user.id);
  if (pending) return pending;
  const sync = runSync(ctx, user).finally(() => running.delete(user.id));
  running.set(user.id, sync);
  return sync;
}

async function runSync(ctx: ServerContext, user: UserRow): Promise<void> {
  const provider = user.provider as Provider;
  const token = await scmTokenFor(ctx, user);
  const scmRepos = await ctx.providers.get(provider).repos(token);
  const keep: number[] = [];
  for (const r of scmRepos) {
    const repo = await saveScmRepo(ctx, provider, r);
    await savePerm(ctx, user.id, repo.id, r.perm);
    keep.push(repo.id);
  }
  // Access the provider no longer lists is access the user lost.
  await ctx.db.perm.deleteMany({ where: { userId: user.id, repoId: { notIn: keep } } });
  const now = ctx.now();
  await ctx.db.user.update({ where: { id: user.id }, data: { syncedAt: now } });
  user.syncedAt = now;
}

/**
 * Inserts or updates the repository's row from the provider's description of it
 * (matched on provider + uid). Visibility is Harrier's own setting once the row
 * exists (PATCH may open a private repository's builds to everyone, as in Drone);
 * it follows the provider again only when the repository's privacy changes there.
 */
export async function saveScmRepo(ctx: ServerContext, provider: Provider, r: ScmRepo): Promise<RepoRow> {
  const now = ctx.now();
  const existing = await ctx.db.repo.findUnique({ where: { provider_uid: { provider, uid: r.uid } } });
  const fields = {
    namespace: r.namespace,
    name: r.name,
    slug: r.slug,
    cloneUrl: r.cloneUrl,
    sshUrl: r.sshUrl,
    link: r.link,
    private: r.private,
    ...(!existing || existing.private !== r.private ? { visibility: r.visibility } : {}),
    ...(r.defaultBranch ? { defaultBranch: r.defaultBranch } : {}),
    syncedAt: now,
    updatedAt: now,
  };
  if (!existing || existing.slug !== r.slug) await freeSlug(ctx, provider, r.slug, r.uid);
  return retryOnUniqueRace(() =>
    ctx.db.repo.upsert({
      where: { provider_uid: { provider, uid: r.uid } },
      update: fields,
      create: { provider, uid: r.uid, visibility: r.visibility, ...fields, createdAt: now },
    }),
  );
}

/**
 * A slug names one repository per provider. When another row still holds this
 * slug, that repository was renamed or deleted and a new one took its name; the
 * old row keeps its builds under a marked slug until its own next sync renames it.
 */
async function freeSlug(ctx: ServerContext, provider: Provider, slug: string, uid: string): Promise<void> {
  const holder = await ctx.db.repo.findUnique({ where: { provider_slug: { provider, slug } } });
  if (holder && holder.uid !== uid) {
    await ctx.db.repo.update({ where: { id: holder.id }, data: { slug: `${slug}~moved-${holder.uid}`, updatedAt: ctx.now() } });
  }
}

export async function savePerm(ctx: ServerContext, userId: number, repoId: number, perm: Permission): Promise<PermRow> {
  const data = { read: perm.read, write: perm.write, admin: perm.admin, syncedAt: ctx.now() };
  return retryOnUniqueRace(() =>
    ctx.db.perm.upsert({ where: { userId_repoId: { userId, repoId } }, update: data, create: { userId, repoId, ...data } }),
  );
}

/** An upsert that lost a race to another process's insert fails with P2002 once; the retry updates instead. */
async function retryOnUniqueRace<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if ((err as { code?: string })?.code === 'P2002') return write();
    throw err;
  }
}
