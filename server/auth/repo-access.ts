// Access to /api/repos/:owner/:name/...: finds the repository and the caller's
// permission on it, asking the provider when Harrier has no fresh answer. A
// repository the caller may not read answers 404, so private names do not leak.
import type { RequestHandler } from 'express';
import type { Permission, Provider } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import { HttpError, notFound, unauthorized } from '../http/errors.ts';
import type { PermRow, RepoRow, UserRow } from '../http/request.ts';
import { savePerm, saveScmRepo, syncIsStale } from '../api/repo-sync.ts';
import { ScmError } from '../providers/scm.ts';
import { noteScmRefusal, providerPermsKnown, scmRefusedMessage, scmTokenFor } from './scm-token.ts';

export type AccessLevel = 'read' | 'write' | 'admin';

const NONE: Permission = { read: false, write: false, admin: false };
const READ_ONLY: Permission = { read: true, write: false, admin: false };

/**
 * Loads the repository named by :owner/:name into req.repo and the caller's
 * permission into req.perm, and refuses callers below `level`. Public
 * repositories (visibility "public") are readable by anyone, signed in or not;
 * everything else needs the provider's read permission. Mount after authenticate().
 */
export function repoAccess(ctx: ServerContext, level: AccessLevel): RequestHandler {
  return async (req, _res, next) => {
    const slug = `${req.params.owner}/${req.params.name}`;
    const user = req.user;
    // A user whose token the provider refused is, for repositories, an anonymous visitor.
    const known = () => Boolean(user && providerPermsKnown(user));
    const hint = () => (!user ? ' (sign in to see private repositories)' : known() ? '' : ` (${scmRefusedMessage(ctx, user)})`);
    const hidden = () => notFound(`repository ${slug} not found, or you cannot see it${hint()}`);
    const repo = (await findRepo(ctx, slug, user)) ?? (user && known() ? await fetchRepo(ctx, user, slug) : undefined);
    if (!repo) throw hidden();
    const perm = user && known() ? await permFor(ctx, user, repo) : undefined;
    const readable = repo.visibility === 'public' || Boolean(perm?.read);
    if (!readable) throw hidden();
    if (level !== 'read') {
      if (!user) throw unauthorized(`sign in to change ${slug}; this needs ${level} permission on it`);
      if (!known()) throw new HttpError(403, `you need ${level} permission on ${slug} for this, and ${scmRefusedMessage(ctx, user)}`);
      if (!perm?.[level]) {
        const provider = ctx.providers.nameOf(repo.provider);
        throw new HttpError(
          403,
          `you need ${level} permission on ${slug} for this; ${provider} gives ${user.login} ${describe(perm ?? NONE)}`,
        );
      }
    }
    req.repo = repo;
    req.perm = perm ? pick(perm) : READ_ONLY;
    next();
  };
}

/** The repository with this slug; when several providers have one, the caller's provider's. */
async function findRepo(ctx: ServerContext, slug: string, user: UserRow | undefined): Promise<RepoRow | undefined> {
  const repos = await ctx.db.repo.findMany({ where: { slug }, orderBy: { id: 'asc' } });
  return repos.find((r) => r.provider === user?.provider) ?? repos[0];
}

/** A repository created on the provider since the user's last sync: ask the provider and store it. */
async function fetchRepo(ctx: ServerContext, user: UserRow, slug: string): Promise<RepoRow | undefined> {
  const provider = user.provider as Provider;
  try {
    const token = await scmTokenFor(ctx, user);
    const remote = await ctx.providers.get(provider).repo(token, slug);
    const repo = await saveScmRepo(ctx, provider, remote);
    await savePerm(ctx, user.id, repo.id, remote.perm);
    return repo;
  } catch (err) {
    if (await noteScmRefusal(ctx, user, err)) return undefined;
    if (err instanceof ScmError && err.status < 500) return undefined;
    throw err;
  }
}

/**
 * The user's permission on the repository: the stored one while it is fresh,
 * otherwise the provider's (stored for next time). When the provider cannot be
 * asked, a stale stored answer is better than none.
 */
async function permFor(ctx: ServerContext, user: UserRow, repo: RepoRow): Promise<Permission | undefined> {
  // A Bitbucket account has no permissions on a GitHub repository, and the other way round.
  if (user.provider !== repo.provider) return undefined;
  const stored = await ctx.db.perm.findUnique({ where: { userId_repoId: { userId: user.id, repoId: repo.id } } });
  if (stored && !syncIsStale(ctx, stored.syncedAt)) return stored;
  try {
    const token = await scmTokenFor(ctx, user);
    const remote = await ctx.providers.get(repo.provider).repo(token, repo.slug);
    if (remote.uid !== repo.uid) return savePerm(ctx, user.id, repo.id, NONE);
    const saved = await saveScmRepo(ctx, repo.provider as Provider, remote);
    Object.assign(repo, saved);
    return await savePerm(ctx, user.id, repo.id, remote.perm);
  } catch (err) {
    // The provider hides repositories the user cannot see behind 404 (GitHub) or 403 (Bitbucket).
    if (err instanceof ScmError && (err.status === 404 || err.status === 403)) return savePerm(ctx, user.id, repo.id, NONE);
    // A refused token says nothing about this repository, and the stored answer may be a revoked grant's.
    if (await noteScmRefusal(ctx, user, err)) return undefined;
    ctx.logger.warn({ err, user: user.login, repo: repo.slug }, 'could not refresh the permission from the provider; using the stored one');
    return stored ?? undefined;
  }
}

function pick(p: Permission | PermRow): Permission {
  return { read: p.read, write: p.write, admin: p.admin };
}

function describe(p: Permission): string {
  if (p.admin) return 'admin permission';
  if (p.write) return 'write permission only';
  if (p.read) return 'read permission only';
  return 'no permission';
}
