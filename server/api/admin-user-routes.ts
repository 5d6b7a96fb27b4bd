// Harrier's administrators manage its users (Drone's paths):
//   GET    /api/users            every user
//   GET    /api/users/{login}    one (?provider=<id> when two providers have that login)
//   PATCH  /api/users/{login}    {"admin"?: bool, "active"?: bool}: promote, demote, block, unblock
//   DELETE /api/users/{login}    removes the user with their sessions, tokens and permissions
// A blocked user (active false) cannot sign in, and their sessions and personal tokens
// stop working with the next request. No change may leave Harrier without an active
// administrator. Mount after authenticate(ctx).
import { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import type { ServerContext } from '../context.ts';
import { conflict, forbidden, HttpError, notFound, unauthorized } from '../http/errors.ts';
import type { UserRow } from '../http/request.ts';
import { parseInput } from './body-validation.ts';
import { userJson } from './serialize.ts';

const userPatchSchema = z
  .object({ admin: z.boolean().optional(), active: z.boolean().optional() })
  .strict()
  .refine((p) => p.admin !== undefined || p.active !== undefined, 'send "admin" and/or "active" (true or false)');

export const requireAdmin: RequestHandler = (req, _res, next) => {
  if (!req.user) return next(unauthorized());
  next(req.user.admin ? undefined : forbidden(`${req.user.login} is not an administrator of Harrier; ${req.method} ${req.baseUrl}${req.path} is for administrators`));
};

export function adminUserRouter(ctx: ServerContext): Router {
  const router = Router();
  router.use('/api/users', requireAdmin);

  router.get('/api/users', async (_req, res) => {
    const users = await ctx.db.user.findMany({ orderBy: [{ login: 'asc' }, { provider: 'asc' }] });
    res.json(users.map(userJson));
  });

  router.get('/api/users/:login', async (req, res) => {
    res.json(userJson(await findUser(ctx, req)));
  });

  router.patch('/api/users/:login', async (req, res) => {
    const patch = parseInput(userPatchSchema, req.body);
    const target = await findUser(ctx, req);
    const me = req.user!;
    const updated = await ctx.db.$transaction(async (tx) => {
      const saved = await tx.user.update({
        where: { id: target.id },
        data: { ...(patch.admin !== undefined && { admin: patch.admin }), ...(patch.active !== undefined && { active: patch.active }), updatedAt: ctx.now() },
      });
      // Counted inside the transaction, after the change: two administrators demoting each other at once cannot both win.
      if ((await tx.user.count({ where: { admin: true, active: true } })) === 0) throw lastAdmin(target, me, patch.active === false ? 'block' : 'demote');
      // Blocking ends the user's sessions now; their tokens are refused while they stay blocked.
      if (patch.active === false) await tx.session.deleteMany({ where: { userId: target.id } });
      return saved;
    });
    ctx.logger.info({ event: 'user_changed', login: updated.login, provider: updated.provider, admin: updated.admin, active: updated.active, by: me.login }, 'user changed by an administrator');
    res.json(userJson(updated));
  });

  router.delete('/api/users/:login', async (req, res) => {
    const target = await findUser(ctx, req);
    const me = req.user!;
    await ctx.db.$transaction(async (tx) => {
      await tx.user.delete({ where: { id: target.id } });
      if ((await tx.user.count({ where: { admin: true, active: true } })) === 0) throw lastAdmin(target, me, 'delete');
    });
    ctx.logger.info({ event: 'user_deleted', login: target.login, provider: target.provider, by: me.login }, 'user deleted by an administrator');
    res.status(204).end();
  });

  return router;
}

function lastAdmin(target: UserRow, me: UserRow, action: 'block' | 'demote' | 'delete'): HttpError {
  const who = target.id === me.id ? 'yourself' : target.login;
  return conflict(
    `cannot ${action} ${who}: ${target.login} is the last active administrator of Harrier, and it would have none; ` +
      'promote another user first (PATCH /api/users/{login} with {"admin": true})',
  );
}

/** The user the path names; ?provider= picks one when two providers have the login. */
async function findUser(ctx: ServerContext, req: Request): Promise<UserRow> {
  const login = String(req.params.login);
  const provider = typeof req.query.provider === 'string' && req.query.provider ? req.query.provider : undefined;
  if (provider && !ctx.providers.find(provider)) {
    throw new HttpError(400, `provider=${provider} is not one Harrier knows; use ${ctx.providers.ids().join(' or ')}`);
  }
  const users = await ctx.db.user.findMany({ where: { login, ...(provider && { provider }) } });
  if (users.length === 0) throw notFound(`no user ${login}${provider ? ` from ${provider}` : ''} has signed in to Harrier; GET /api/users lists them`);
  if (users.length > 1) {
    throw conflict(`${login} names users of ${users.map((u) => u.provider).join(' and ')}; add ?provider=${users[0].provider} (or another) to say which`);
  }
  return users[0];
}
