// Organisation secrets (Drone's paths and JSON; the namespace's administrators at the
// provider and Harrier administrators, see server/auth/org-access.ts):
//   GET    /api/secrets/{namespace}           [{id, namespace, name, pull_request}]
//   POST   /api/secrets/{namespace}           {name, data, pull_request?} -> the secret
//   GET    /api/secrets/{namespace}/{secret}  the secret
//   PATCH  /api/secrets/{namespace}/{secret}  {data?, pull_request?} -> the secret
//   DELETE /api/secrets/{namespace}/{secret}  204
// Each takes ?provider= to name the provider whose namespace is meant. Every repository of
// the namespace on that provider may use these secrets (server/secrets/stage-secrets.ts);
// a repository secret of the same name wins. Values are never answered, as for repository
// secrets. Mount after authenticate(ctx).
import { Router, type Request } from 'express';
import type { OrgSecret } from '../../core/domain.ts';
import { orgAccess } from '../auth/org-access.ts';
import type { ServerContext } from '../context.ts';
import type { OrgSecret as OrgSecretRow } from '../db/generated/sqlite/client.ts';
import { conflict, notFound } from '../http/errors.ts';
import { orgSecretContext } from '../secrets/secret-box.ts';
import { parseInput } from './body-validation.ts';
import { caseTwin, requireBox, secretCreateSchema, secretPatchSchema } from './secret-routes.ts';

const SECRETS = '/api/secrets/:namespace';
const SECRET = `${SECRETS}/:secret`;

/** An organisation secret as the API shows it: never its value. */
export function orgSecretJson(s: OrgSecretRow): OrgSecret {
  return { id: s.id, namespace: s.namespace, name: s.name, pull_request: s.pullRequest };
}

export function orgSecretRouter(ctx: ServerContext): Router {
  const router = Router();
  const org = (req: Request) => req.org!;
  /** How messages and logs name the namespace: "acme on GitHub". */
  const label = (req: Request) => `${org(req).namespace} on ${ctx.providers.nameOf(org(req).provider)}`;

  const findSecret = async (req: Request): Promise<OrgSecretRow> => {
    const name = String(req.params.secret);
    const secret = await ctx.db.orgSecret.findUnique({ where: { provider_namespace_name: { ...org(req), name } } });
    if (!secret) throw notFound(`${label(req)} has no organisation secret named "${name}"`);
    return secret;
  };

  router.get(SECRETS, orgAccess(ctx), async (req, res) => {
    const secrets = await ctx.db.orgSecret.findMany({ where: org(req), orderBy: { name: 'asc' } });
    res.json(secrets.map(orgSecretJson));
  });

  router.get(SECRET, orgAccess(ctx), async (req, res) => {
    res.json(orgSecretJson(await findSecret(req)));
  });

  router.post(SECRETS, orgAccess(ctx), async (req, res) => {
    const input = parseInput(secretCreateSchema, req.body);
    const { provider, namespace } = org(req);
    const box = requireBox(ctx);
    const taken = caseTwin(await ctx.db.orgSecret.findMany({ where: { provider, namespace }, select: { name: true } }), input.name);
    if (taken) throw conflict(`${label(req)} already has an organisation secret named "${taken.name}"; change it with PATCH, or delete it first`);
    const now = ctx.now();
    const created = await ctx.db.orgSecret
      .create({
        data: {
          provider,
          namespace,
          name: input.name,
          data: box.seal(input.data, orgSecretContext(provider, namespace, input.name)),
          pullRequest: input.pull_request ?? false,
          createdAt: now,
          updatedAt: now,
        },
      })
      .catch((err: unknown) => {
        // Two servers (or a retried request) creating the same name at once: the unique index decides.
        if ((err as { code?: string }).code === 'P2002') throw conflict(`${label(req)} already has an organisation secret named "${input.name}"`);
        throw err;
      });
    ctx.logger.info({ event: 'org_secret_created', provider, namespace, secret: created.name, pull_request: created.pullRequest, by: req.user?.login }, 'organisation secret created');
    res.json(orgSecretJson(created));
  });

  router.patch(SECRET, orgAccess(ctx), async (req, res) => {
    const patch = parseInput(secretPatchSchema, req.body);
    const secret = await findSecret(req);
    const data = patch.data === undefined ? undefined : requireBox(ctx).seal(patch.data, orgSecretContext(secret.provider, secret.namespace, secret.name));
    // updateMany on the id: a secret deleted meanwhile answers 404 instead of an unhandled error.
    const { count } = await ctx.db.orgSecret.updateMany({
      where: { id: secret.id },
      data: {
        ...(data !== undefined && { data }),
        ...(patch.pull_request !== undefined && { pullRequest: patch.pull_request }),
        updatedAt: ctx.now(),
      },
    });
    if (count === 0) throw notFound(`${label(req)} has no organisation secret named "${secret.name}" any more: it was deleted meanwhile`);
    const saved = await findSecret(req);
    ctx.logger.info(
      { event: 'org_secret_updated', provider: saved.provider, namespace: saved.namespace, secret: saved.name, value_changed: data !== undefined, pull_request: saved.pullRequest, by: req.user?.login },
      'organisation secret updated',
    );
    res.json(orgSecretJson(saved));
  });

  router.delete(SECRET, orgAccess(ctx), async (req, res) => {
    const secret = await findSecret(req);
    await ctx.db.orgSecret.deleteMany({ where: { id: secret.id } });
    ctx.logger.info({ event: 'org_secret_deleted', provider: secret.provider, namespace: secret.namespace, secret: secret.name, by: req.user?.login }, 'organisation secret deleted');
    res.status(204).end();
  });

  return router;
}
