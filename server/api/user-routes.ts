// The signed-in user's own endpoints (Drone's paths):
//   GET  /api/user          the user; a session-authenticated answer carries the CSRF token in X-CSRF-Token
//   GET  /api/user/csrf     { "token": "<the session's CSRF token>" }
//   POST /api/user/token    a new personal token: the user JSON plus "token" (?rotate=true revokes older ones)
//   GET  /api/user/tokens   the user's personal tokens: id, name, created, expires, last_used (never the token)
//   POST /api/user/tokens   {"name": "...", "days"?: n} a new named token: its listing plus "token", shown once
//   DELETE /api/user/tokens/{id}  revokes one
//   GET  /api/user/repos    repositories the user can access, with permissions and each one's last build (?latest=true syncs first)
// Mount after authenticate(ctx).
import { Router } from 'express';
import { z } from 'zod';
import type { Permission } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import { CSRF_HEADER, requireUser, sessionOf } from '../auth/authenticate.ts';
import { issueApiToken, listApiTokens, revokeApiToken } from '../auth/api-token.ts';
import { noteScmRefusal, providerPermsKnown, scmRefusedMessage } from '../auth/scm-token.ts';
import { MAX_TOKEN_DAYS } from '../config.ts';
import { badRequest, HttpError, notFound } from '../http/errors.ts';
import type { UserRow } from '../http/request.ts';
import { ScmError } from '../providers/scm.ts';
import { parseInput } from './body-validation.ts';
import { syncIsStale, syncUserRepos } from './repo-sync.ts';
import { buildJson, repoJson, userJson } from './serialize.ts';
import { latestBuilds } from '../builds/latest-builds.ts';

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
    const { token } = await issueApiToken(ctx, user.id, { rotate: req.query.rotate === 'true' });
    res.json({ ...userJson(user), token });
  });

  router.get('/api/user/tokens', async (req, res) => {
    res.json(await listApiTokens(ctx, req.user!.id));
  });

  router.post('/api/user/tokens', async (req, res) => {
    const input = parseInput(newTokenSchema, req.body);
    const { token, info } = await issueApiToken(ctx, req.user!.id, { name: input.name, days: input.days });
    res.status(201).json({ ...info, token });
  });

  router.delete('/api/user/tokens/:id', async (req, res) => {
    if (!(await revokeApiToken(ctx, req.user!.id, req.params.id))) {
      throw notFound(`you have no personal token with id ${req.params.id}; GET /api/user/tokens lists yours`);
    }
    res.status(204).end();
  });

  router.get('/api/user/repos', async (req, res) => {
    const user = req.user!;
    const latest = req.query.latest === 'true';
    if (latest || syncIsStale(ctx, user.syncedAt)) await sync(ctx, user, latest);
    const perms = await ctx.db.perm.findMany({
      where: { userId: user.id, read: true, repo: { provider: user.provider } },
      include: { repo: true },
    });
    // After the provider refused the user's token, the stored permissions may be a revoked grant's:
    // the list keeps only what anyone may read, read-only.
    const known = providerPermsKnown(user);
    const listed = perms.filter((p) => known || p.repo.visibility === 'public').sort((a, b) => a.repo.slug.localeCompare(b.repo.slug));
    const latestBuild = await latestBuilds(ctx, listed.map((p) => p.repo));
    const repos = listed.map((p) => {
      const build = latestBuild.get(p.repo.id);
      return { ...repoJson(p.repo, known ? (p as Permission) : { read: true, write: false, admin: false }), ...(build ? { build: buildJson(build) } : {}) };
    });
    res.json(repos);
  });

  return router;
}

const NAME_IT = 'give the token a name, e.g. "laptop" or "deploy script"';
const newTokenSchema = z.object({
  name: z.string({ error: NAME_IT }).trim().min(1, NAME_IT).max(100),
  days: z.number().int().min(1).max(MAX_TOKEN_DAYS).optional(),
});

/** With ?latest=true a failed sync is the answer; otherwise the stored list is served and the failure logged. */
async function sync(ctx: ServerContext, user: UserRow, mustSucceed: boolean): Promise<void> {
  if (!providerPermsKnown(user)) {
    if (mustSucceed) throw new HttpError(401, `could not list your repositories: ${scmRefusedMessage(ctx, user)}`);
    return;
  }
  try {
    await syncUserRepos(ctx, user);
  } catch (err) {
    await noteScmRefusal(ctx, user, err);
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
