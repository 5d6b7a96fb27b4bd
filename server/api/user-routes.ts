// The signed-in user's own endpoints (Drone's paths):
//   GET  /api/user          the user; a session-authenticated answer carries the CSRF token in X-CSRF-Token
//   GET  /api/user/csrf     { "token": "<the session's CSRF token>" }
//   POST /api/user/token    a new personal token: the user JSON plus "token" (?rotate=true revokes older ones)
//   GET  /api/user/repos    repositories the user can access, with permissions (?latest=true syncs first)
// Mount after authenticate(ctx).
import { Router } from 'express';
import type { Permission } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import { CSRF_HEADER, requireUser, sessionOf } from '../auth/authenticate.ts';
import { createApiToken } from '../auth/api-token.ts';
import { badRequest, HttpError } from '../http/errors.ts';
import type { UserRow } from '../http/request.ts';
import { ScmError } from '../scm/scm.ts';
import { syncIsStale, syncUserRepos } from './repo-sync.ts';
import { repoJson, userJson } from './serialize.ts';

export function userRouter(ctx: ServerContext): Router {
  const router = Router();
  router.use('/api/user', requireUser);

  router.get('/api/user', (req, res) => {
    const session = sessionOf(req);
    if (session) res.set(CSRF_HEADER, session.csrf);
    res.json(userJson(req.user!));
  });

  router.get('/api/user/csrf', (req, res) => {
    const session = sessionOf(req);
    if (!session) {
      throw badRequest('CSRF tokens belong to browser sessions; a call with a Bearer token needs none');
    }
    res.json({ token: session.csrf });
  });

  router.post('/api/user/token', async (req, res) => {
    const user = req.user!;
    const token = await createApiToken(ctx, user.id, { rotate: req.query.rotate === 'true' });
    res.json({ ...userJson(user), token });
  });

  router.get('/api/user/repos', async (req, res) => {
    const user = req.user!;
    const latest = req.query.latest === 'true';
    if (latest || syncIsStale(ctx, user.syncedAt)) await sync(ctx, user, latest);
    const perms = await ctx.db.perm.findMany({
      where: { userId: user.id, read: true, repo: { provider: user.provider } },
      include: { repo: true },
    });
    const repos = perms
      .sort((a, b) => a.repo.slug.localeCompare(b.repo.slug))
      .map((p) => repoJson(p.repo, p as Permission));
    res.json(repos);
  });

  return router;
}

/** With ?latest=true a failed sync is the answer; otherwise the stored list is served and the failure logged. */
async function sync(ctx: ServerContext, user: UserRow, mustSucceed: boolean): Promise<void> {
  try {
    await syncUserRepos(ctx, user);
  } catch (err) {
    if (mustSucceed) {
      if (err instanceof ScmError) {
        // A 401 from the provider means its token is no longer good: signing in again fixes that.
        throw new HttpError(err.status === 401 ? 401 : 502, `could not list your repositories: ${err.message}`);
      }
      throw err;
    }
    ctx.logger.warn({ err, user: user.login }, 'repository sync failed; serving the stored list');
  }
}
