// A repository's language settings (a Harrier addition to Drone's API):
//   GET   /api/repos/{owner}/{name}/language          the settings (read)
//   PATCH /api/repos/{owner}/{name}/language          {language?, proposal?} (admin)
//   POST  /api/repos/{owner}/{name}/language/detect   detect again from the default branch (admin)
// Each answers LanguageSettings (server/language/language-settings.ts).
// Detection is kept per commit (server/language/language-cache.ts): a GET by a user
// signed in with the repository's provider costs one call (the head commit) on that
// user's own token, plus the files when the head is a commit not seen before. Anyone
// else gets the newest stored detection and costs no call at all: an anonymous GET
// used to spend about 14 calls of the activating user's quota.
// Mount after authenticate(ctx).
import { Router, type Request } from 'express';
import { z } from 'zod';
import { formatPipelineErrors } from '../../pipeline/index.ts';
import { repoAccess } from '../auth/repo-access.ts';
import { noteScmRefusal, providerPermsKnown, scmRefusedMessage, scmTokenFor } from '../auth/scm-token.ts';
import { repoToken } from '../builds/repo-token.ts';
import type { ServerContext } from '../context.ts';
import { HttpError } from '../http/errors.ts';
import type { RepoRow } from '../http/request.ts';
import {
  effectiveLanguage,
  languageSettingsJson,
  probeRepoHead,
  saveDetectedLanguage,
  saveLanguage,
  type RepoProbe,
} from '../language/language-settings.ts';
import { latestProbe } from '../language/language-cache.ts';
import { defaultProposal, LANGUAGE_IDS } from '../language/proposals.ts';
import { ScmError } from '../providers/scm.ts';
import { parseInput } from './body-validation.ts';

const LANGUAGE = '/api/repos/:owner/:name/language';

/** Proposals are pipeline files; Drone refuses configuration files over 1 MB, this is far below. */
const MAX_PROPOSAL = 256 * 1024;

export const languagePatchSchema = z.object({
  language: z.enum(LANGUAGE_IDS, { error: `must be one of ${LANGUAGE_IDS.join(', ')}` }).optional(),
  proposal: z.string({ error: 'must be the pipeline as YAML text' }).max(MAX_PROPOSAL, `must be at most ${MAX_PROPOSAL} characters`).optional(),
});

export function languageRouter(ctx: ServerContext): Router {
  const router = Router();

  router.get(LANGUAGE, repoAccess(ctx, 'read'), async (req, res) => {
    let repo = req.repo!;
    // A user whose provider token was refused is, until they sign in again, an anonymous caller here too.
    const ownToken = Boolean(req.user && req.user.provider === repo.provider && providerPermsKnown(req.user));
    const found = (ownToken && (await probe(ctx, req).catch(refusedToken))) || ((await latestProbe(ctx, repo)) ?? NOT_DETECTED);
    // An active repository whose detection failed at activation gets it now, so builds can use its proposal.
    if (repo.active && !repo.language && found.detected) repo = await saveDetectedLanguage(ctx, repo, found.detected);
    res.json(languageSettingsJson(repo, found));
  });

  router.patch(LANGUAGE, repoAccess(ctx, 'admin'), async (req, res) => {
    const patch = parseInput(languagePatchSchema, req.body);
    const repo = req.repo!;
    if (patch.proposal !== undefined) {
      // No build reads it yet: `${...}` is checked when one does.
      const { checked } = await ctx.pipelines.check(patch.proposal, repo.trusted, null);
      if (!checked.ok) {
        // The proposal stands in for the pipeline file, so its errors are named after it.
        res.status(400).json({ message: formatPipelineErrors(repo.configPath, checked.errors), errors: checked.errors });
        return;
      }
    }
    const found = await probe(ctx, req);
    if (patch.language === undefined && patch.proposal === undefined) return res.json(languageSettingsJson(repo, found));
    const current = effectiveLanguage(repo, found.detected);
    const language = patch.language ?? current;
    // A new language without a proposal of its own starts from that language's default.
    const proposal = patch.proposal ?? (language !== current || !repo.pipelineProposal ? defaultProposal(language) : repo.pipelineProposal);
    const saved = await saveLanguage(ctx, repo, language, proposal);
    ctx.logger.info({ event: 'language_changed', repo: repo.slug, language, by: req.user?.login }, 'language settings changed');
    res.json(languageSettingsJson(saved, found));
  });

  router.post(`${LANGUAGE}/detect`, repoAccess(ctx, 'admin'), async (req, res) => {
    // Reads the files again even at a commit already seen: an explicit request, and rare.
    const found = await probe(ctx, req, true);
    const saved = await saveDetectedLanguage(ctx, req.repo!, found.detected || 'generic');
    res.json(languageSettingsJson(saved, found));
  });

  return router;
}

const NOT_DETECTED: RepoProbe = { detected: '', hasConfig: null, commit: '' };

/** A caller whose provider token is refused (401, now or before) gets what anonymous callers get. */
function refusedToken(err: unknown): undefined {
  if (err instanceof HttpError && err.status === 401) return undefined;
  throw err;
}

async function probe(ctx: ServerContext, req: Request, fresh = false): Promise<RepoProbe> {
  const repo = req.repo!;
  const user = req.user;
  const callers = Boolean(user && user.provider === repo.provider);
  try {
    return await probeRepoHead(ctx, repo, await tokenFor(ctx, req), fresh);
  } catch (err) {
    // The provider refused the caller's own token: their permissions there are unknown from now on, and they should hear so.
    if (callers && err instanceof ScmError && (await noteScmRefusal(ctx, user!, err))) throw new HttpError(401, scmRefusedMessage(ctx, user!));
    throw providerUnavailable(ctx, err, repo);
  }
}

/**
 * Whose provider token reads the files: the caller's when they signed in with
 * the repository's provider, else that of the user who activated it, else none
 * (providers let anyone read a public repository's files).
 */
async function tokenFor(ctx: ServerContext, req: Request): Promise<string> {
  const repo = req.repo!;
  const user = req.user;
  if (user && user.provider === repo.provider) return scmTokenFor(ctx, user);
  if (repo.userId) return repoToken(ctx, repo).catch(() => '');
  return '';
}

function providerUnavailable(ctx: ServerContext, err: unknown, repo: RepoRow): unknown {
  if (!(err instanceof ScmError)) return err;
  const name = ctx.providers.nameOf(repo.provider);
  return new HttpError(
    err.status === 429 ? 429 : 502,
    `${name} did not let Harrier read the files of ${repo.slug} at ${repo.defaultBranch}: ${err.message}; try again when ${name} answers`,
  );
}
