// Personal API tokens, sent as `Authorization: Bearer <token>`. Only their sha256 is stored.
import type { ServerContext } from '../context.ts';
import type { UserRow } from '../http/request.ts';
import { randomSecret, sha256 } from './secrets.ts';

/** Creates a token for the user; with rotate, the user's older tokens stop working. */
export async function createApiToken(ctx: ServerContext, userId: number, options: { rotate?: boolean } = {}): Promise<string> {
  const token = randomSecret();
  const create = ctx.db.apiToken.create({ data: { id: sha256(token), userId, createdAt: ctx.now() } });
  if (options.rotate) {
    await ctx.db.$transaction([ctx.db.apiToken.deleteMany({ where: { userId } }), create]);
  } else {
    await create;
  }
  return token;
}

/** The active user the token belongs to, or undefined. */
export async function userForApiToken(ctx: ServerContext, token: string): Promise<UserRow | undefined> {
  const row = await ctx.db.apiToken.findUnique({ where: { id: sha256(token) }, include: { user: true } });
  return row?.user.active ? row.user : undefined;
}
