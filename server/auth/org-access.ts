// Access to /api/secrets/:namespace/...: who administers an organisation (GitHub) or
// workspace (Bitbucket). The provider is asked on every call rather than remembered, so
// an administrator the organisation demotes loses its secrets at once; these are rare,
// deliberate calls. Harrier administrators manage every namespace, and a user's own
// login is a namespace they administer.
//
// Which provider's namespace: `?provider=github|bitbucket` when given, otherwise the
// signed-in user's provider. A GitHub organisation and a Bitbucket workspace of the same
// name are different namespaces with different secrets.
import type { Request, RequestHandler } from 'express';
import type { Provider } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import { badRequest, forbidden, HttpError, unauthorized } from '../http/errors.ts';
import type { UserRow } from '../http/request.ts';
import { ScmError } from '../providers/scm.ts';
import { noteScmRefusal, providerPermsKnown, scmRefusedMessage, scmTokenFor } from './scm-token.ts';

/** GitHub logins and Bitbucket workspace slugs both fit; anything else names no namespace. */
const NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** Sets req.org to the namespace in :namespace when the caller administers it. Mount after authenticate(). */
export function orgAccess(ctx: ServerContext): RequestHandler {
  return async (req, _res, next) => {
    const user = req.user;
    const raw = String(req.params.namespace);
    if (!user) throw unauthorized(`sign in to manage the secrets of ${raw}; only its administrators may`);
    if (!NAMESPACE.test(raw)) {
      throw badRequest(`"${raw}" is not an organisation or workspace name: use letters, digits, "-", "_" and ".", starting with a letter or digit, e.g. /api/secrets/octocat`);
    }
    const provider = providerOf(ctx, req, user);
    const namespace = raw.toLowerCase();
    const where = `${raw} on ${ctx.providers.nameOf(provider)}`;
    if (!user.admin) await requireOrgAdmin(ctx, user, provider, raw, where);
    req.org = { provider, namespace };
    next();
  };
}

function providerOf(ctx: ServerContext, req: Request, user: UserRow): Provider {
  const asked = req.query.provider;
  if (asked === undefined) return user.provider as Provider;
  const found = typeof asked === 'string' ? ctx.providers.find(asked) : undefined;
  if (!found) {
    throw badRequest(`?provider= must name one of this server's providers (${ctx.providers.ids().join(', ')}), not ${JSON.stringify(asked)}`);
  }
  return found.provider;
}

async function requireOrgAdmin(ctx: ServerContext, user: UserRow, provider: Provider, org: string, where: string): Promise<void> {
  const refuse = (why: string) => forbidden(`you need to administer ${where} to manage its secrets; ${why}`);
  if (user.provider !== provider) {
    throw refuse(`you signed in with ${ctx.providers.nameOf(user.provider)}, which cannot say who administers it; sign in with ${ctx.providers.nameOf(provider)}`);
  }
  if (!providerPermsKnown(user)) throw refuse(scmRefusedMessage(ctx, user));
  if (user.login.toLowerCase() === org.toLowerCase()) return;
  let admin: boolean;
  try {
    admin = await ctx.providers.get(provider).orgAdmin(await scmTokenFor(ctx, user), org);
  } catch (err) {
    if (await noteScmRefusal(ctx, user, err)) throw refuse(scmRefusedMessage(ctx, user));
    if (err instanceof ScmError) throw new HttpError(502, `could not ask ${ctx.providers.nameOf(provider)} who administers ${org}: ${err.message}; try again later`);
    throw err;
  }
  if (!admin) throw refuse(`${ctx.providers.nameOf(provider)} does not list ${user.login} as an administrator of ${org}`);
}
