// The build status badge for READMEs (Drone's badge, under /api so it shares the API's access rules):
//   GET /api/badges/{owner}/{name}/status.svg?ref=   SVG of the latest push (or tag) build of the ref
// `ref` is a branch (`main`) or a full ref (`refs/heads/main`, `refs/tags/v1`); Drone's `?branch=` works
// too; the default is the repository's default branch. Public repositories need no sign-in; private
// ones need read access and answer 404 otherwise, as every repository path does.
// Mount after authenticate(ctx).
import { Router } from 'express';
import { z } from 'zod';
import type { Status } from '../../core/domain.ts';
import { repoAccess } from '../auth/repo-access.ts';
import { statusBadgeSvg } from '../badges/status-badge.ts';
import type { ServerContext } from '../context.ts';
import { parseInput } from './body-validation.ts';

const badgeQuery = z.object({
  ref: z.string({ error: 'must be one branch or ref, e.g. main or refs/heads/main' }).min(1).optional(),
  branch: z.string({ error: 'must be one branch name' }).min(1).optional(),
});

/** A branch name or a full ref, as a full ref. */
export function fullRef(refOrBranch: string): string {
  return refOrBranch.startsWith('refs/') ? refOrBranch : `refs/heads/${refOrBranch}`;
}

export function badgeRouter(ctx: ServerContext): Router {
  const router = Router();

  router.get('/api/badges/:owner/:name/status.svg', repoAccess(ctx, 'read'), async (req, res) => {
    const q = parseInput(badgeQuery, req.query, 'query');
    const repo = req.repo!;
    const ref = fullRef(q.ref ?? q.branch ?? repo.defaultBranch);
    // Pull requests are about someone's proposal, not the branch, so only pushes and tags count.
    const latest = await ctx.db.build.findFirst({
      where: { repoId: repo.id, ref, event: { in: ['push', 'tag'] } },
      orderBy: { number: 'desc' },
      select: { status: true },
    });
    res.set({
      'Content-Type': 'image/svg+xml',
      // Image proxies (GitHub's camo) would otherwise show a stale status.
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      Expires: '0',
    });
    res.send(statusBadgeSvg(latest?.status as Status | undefined));
  });

  return router;
}
