// Repository secrets (Drone's paths and JSON; write permission on the repository, as Drone's
// router asks for every secrets endpoint):
//   GET    /api/repos/{owner}/{name}/secrets          [{id, repo_id, name, pull_request}]
//   POST   /api/repos/{owner}/{name}/secrets          {name, data, pull_request?} -> the secret
//   GET    /api/repos/{owner}/{name}/secrets/{secret} the secret
//   PATCH  /api/repos/{owner}/{name}/secrets/{secret} {data?, pull_request?} -> the secret
//   DELETE /api/repos/{owner}/{name}/secrets/{secret} 204
// No answer ever carries a value (`data`): values are encrypted on the way in
// (server/secrets/secret-box.ts) and only reach runners, for the stages that name them.
// Mount after authenticate(ctx).
import { Router } from 'express';
import { z } from 'zod';
import type { Secret } from '../../core/domain.ts';
import { repoAccess } from '../auth/repo-access.ts';
import type { ServerContext } from '../context.ts';
import type { Secret as SecretRow } from '../db/generated/sqlite/client.ts';
import { conflict, HttpError, notFound } from '../http/errors.ts';
import type { RepoRow } from '../http/request.ts';
import { secretBoxFor, secretContext, type SecretBox } from '../secrets/secret-box.ts';
import { parseInput } from './body-validation.ts';

const SECRETS = '/api/repos/:owner/:name/secrets';
const SECRET = `${SECRETS}/:secret`;

/** Drone's rule for secret names; anything else could not be written after from_secret unquoted anyway. */
const SECRET_NAME = /^[A-Za-z0-9_.-]+$/;
const MAX_NAME = 200;
/** Drone keeps values up to 64 KiB; a Docker config.json or a private key fits. */
const MAX_DATA_BYTES = 65535;

/**
 * Shorter values cannot be masked in build logs without hiding ordinary text (every "abc"),
 * so the runner leaves them visible; the same minimum as runner/secret-mask.ts.
 */
const MIN_DATA_CHARS = 4;

const dataSchema = z
  .string({ error: 'must be a string: the secret value' })
  .min(1, 'must not be empty')
  .refine(
    (d) => [...d].length >= MIN_DATA_CHARS,
    `must be at least ${MIN_DATA_CHARS} characters long: a shorter value could not be masked in build logs without hiding ordinary text`,
  )
  .refine((d) => Buffer.byteLength(d, 'utf8') <= MAX_DATA_BYTES, `must be at most ${MAX_DATA_BYTES} bytes`);

export const secretCreateSchema = z.object({
  name: z
    .string({ error: 'must be a string, e.g. "docker_password"' })
    .min(1, 'must not be empty')
    .max(MAX_NAME, `must be at most ${MAX_NAME} characters`)
    .regex(SECRET_NAME, 'may contain only letters, digits, "_", "." and "-", e.g. "docker_password"'),
  data: dataSchema,
  pull_request: z.boolean({ error: 'must be true or false' }).optional(),
});

/** What PATCH accepts. Other fields Drone's clients send (pull_request_push, name) are ignored. */
export const secretPatchSchema = z.object({
  data: dataSchema.optional(),
  pull_request: z.boolean({ error: 'must be true or false' }).optional(),
});

/** A secret row as the API shows it: never its value. */
export function secretJson(s: SecretRow): Secret {
  return { id: s.id, repo_id: s.repoId, name: s.name, pull_request: s.pullRequest };
}

/**
 * The secret already named `name` ignoring case: pipelines find secrets by name ignoring
 * case, as Drone does, so two names differing only in case would be ambiguous.
 */
export function caseTwin<T extends { name: string }>(secrets: T[], name: string): T | undefined {
  return secrets.find((s) => s.name.toLowerCase() === name.toLowerCase());
}

export function requireBox(ctx: ServerContext): SecretBox {
  const box = secretBoxFor(ctx.config.databaseSecret);
  if (!box) {
    throw new HttpError(
      503,
      'this server cannot store secrets: it has no encryption key. Set HARRIER_DATABASE_SECRET to 32 random bytes ' +
        '(e.g. HARRIER_DATABASE_SECRET=$(openssl rand -hex 32)) in the server\'s environment and restart it',
    );
  }
  return box;
}

export function secretRouter(ctx: ServerContext): Router {
  const router = Router();

  const findSecret = async (repo: RepoRow, name: string): Promise<SecretRow> => {
    const secret = await ctx.db.secret.findUnique({ where: { repoId_name: { repoId: repo.id, name } } });
    if (!secret) throw notFound(`${repo.slug} has no secret named "${name}"`);
    return secret;
  };

  router.get(SECRETS, repoAccess(ctx, 'write'), async (req, res) => {
    const secrets = await ctx.db.secret.findMany({ where: { repoId: req.repo!.id }, orderBy: { name: 'asc' } });
    res.json(secrets.map(secretJson));
  });

  router.get(SECRET, repoAccess(ctx, 'write'), async (req, res) => {
    res.json(secretJson(await findSecret(req.repo!, String(req.params.secret))));
  });

  router.post(SECRETS, repoAccess(ctx, 'write'), async (req, res) => {
    const input = parseInput(secretCreateSchema, req.body);
    const repo = req.repo!;
    const box = requireBox(ctx);
    const taken = caseTwin(await ctx.db.secret.findMany({ where: { repoId: repo.id }, select: { name: true } }), input.name);
    if (taken) throw conflict(`${repo.slug} already has a secret named "${taken.name}"; change it with PATCH, or delete it first`);
    const now = ctx.now();
    const created = await ctx.db.secret
      .create({
        data: {
          repoId: repo.id,
          name: input.name,
          data: box.seal(input.data, secretContext(repo.id, input.name)),
          pullRequest: input.pull_request ?? false,
          createdAt: now,
          updatedAt: now,
        },
      })
      .catch((err: unknown) => {
        if ((err as { code?: string }).code === 'P2002') throw conflict(`${repo.slug} already has a secret named "${input.name}"`);
        throw err;
      });
    ctx.logger.info({ event: 'secret_created', repo: repo.slug, secret: created.name, pull_request: created.pullRequest, by: req.user?.login }, 'secret created');
    res.json(secretJson(created));
  });

  router.patch(SECRET, repoAccess(ctx, 'write'), async (req, res) => {
    const patch = parseInput(secretPatchSchema, req.body);
    const repo = req.repo!;
    const secret = await findSecret(repo, String(req.params.secret));
    const data = patch.data === undefined ? undefined : requireBox(ctx).seal(patch.data, secretContext(repo.id, secret.name));
    const saved = await ctx.db.secret.update({
      where: { id: secret.id },
      data: {
        ...(data !== undefined && { data }),
        ...(patch.pull_request !== undefined && { pullRequest: patch.pull_request }),
        updatedAt: ctx.now(),
      },
    });
    ctx.logger.info(
      { event: 'secret_updated', repo: repo.slug, secret: saved.name, value_changed: data !== undefined, pull_request: saved.pullRequest, by: req.user?.login },
      'secret updated',
    );
    res.json(secretJson(saved));
  });

  router.delete(SECRET, repoAccess(ctx, 'write'), async (req, res) => {
    const repo = req.repo!;
    const secret = await findSecret(repo, String(req.params.secret));
    await ctx.db.secret.deleteMany({ where: { id: secret.id } });
    ctx.logger.info({ event: 'secret_deleted', repo: repo.slug, secret: secret.name, by: req.user?.login }, 'secret deleted');
    res.status(204).end();
  });

  return router;
}
