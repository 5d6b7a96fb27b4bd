// A repository's language settings: the language detected or chosen, and the
// pipeline proposed for it, which builds run when a commit has no pipeline file
// (server/trigger/trigger.ts). Stored on the Repo row (language, pipelineProposal).
import type { LanguageSettings as CoreLanguageSettings } from '../../core/domain.ts';
import type { ServerContext } from '../context.ts';
import type { RepoRow } from '../http/request.ts';
import { detectLanguage, fileExists } from './detect-language.ts';
import { probeHead, type RepoProbe } from './language-cache.ts';
import { defaultProposal, isLanguageId, LANGUAGES, type LanguageId } from './proposals.ts';

export type LanguageSettings = CoreLanguageSettings<LanguageId>;
export type { RepoProbe };

type Repo = Pick<RepoRow, 'id' | 'provider' | 'slug' | 'defaultBranch' | 'configPath' | 'language' | 'pipelineProposal'>;

/** Reads the files at `ref`: detects the language and looks for the pipeline file, all at once. Throws the provider's error. */
export async function probeRepo(ctx: Pick<ServerContext, 'providers'>, repo: Repo, token: string, ref: string): Promise<{ detected: LanguageId; hasConfig: boolean }> {
  const scm = ctx.providers.get(repo.provider);
  const [detected, hasConfig] = await Promise.all([detectLanguage(scm, token, repo.slug, ref), fileExists(scm, token, repo.slug, ref, repo.configPath)]);
  return { detected, hasConfig };
}

/** The repository at the head of its default branch, read from the provider when that commit is new (or `fresh`). */
export function probeRepoHead(ctx: ServerContext, repo: Repo, token: string, fresh = false): Promise<RepoProbe> {
  return probeHead(ctx, repo, token, (ref) => probeRepo(ctx, repo, token, ref), fresh);
}

export function effectiveLanguage(repo: Pick<RepoRow, 'language'>, detected: LanguageId | ''): LanguageId {
  return isLanguageId(repo.language) ? repo.language : detected || 'generic';
}

export function languageSettingsJson(repo: Repo, probe: RepoProbe): LanguageSettings {
  const language = effectiveLanguage(repo, probe.detected);
  return {
    language,
    detected: probe.detected,
    languages: LANGUAGES.map((l) => ({ id: l.id, name: l.name })),
    proposal: repo.pipelineProposal,
    default_proposal: defaultProposal(language),
    config_path: repo.configPath,
    has_config: probe.hasConfig,
    commit: probe.commit,
  };
}

/**
 * The proposal a detection stores. Nothing for "generic": a placeholder pipeline
 * would build every push of a repository Harrier knows nothing about and report
 * a meaningless green status, so such commits stay unbuilt (as without language
 * settings) until someone saves a proposal.
 */
export function detectedProposal(language: LanguageId): string {
  return language === 'generic' ? '' : defaultProposal(language);
}

/**
 * Stores a detection: a new language brings its default proposal; the same
 * language keeps the proposal, which the user may have edited. Returns the row.
 */
export async function saveDetectedLanguage<R extends Repo>(ctx: ServerContext, repo: R, detected: LanguageId): Promise<R> {
  if (repo.language === detected) return repo;
  return saveLanguage(ctx, repo, detected, detectedProposal(detected));
}

export async function saveLanguage<R extends Repo>(ctx: ServerContext, repo: R, language: LanguageId, proposal: string): Promise<R> {
  const saved = await ctx.db.repo.update({
    where: { id: repo.id },
    data: { language, pipelineProposal: proposal, updatedAt: ctx.now(), version: { increment: 1 } },
  });
  return { ...repo, ...saved };
}

/**
 * Detection when a repository is activated, with the activating user's token, kept
 * for the commit it read. Best effort: the repository is active either way, and the
 * settings page can detect again.
 */
export async function detectLanguageOnActivation(ctx: ServerContext, repo: Repo, token: string): Promise<void> {
  try {
    const { detected } = await probeRepoHead(ctx, repo, token);
    if (!detected) return;
    await saveDetectedLanguage(ctx, repo, detected);
    ctx.logger.info({ event: 'language_detected', repo: repo.slug, language: detected }, 'language detected');
  } catch (err) {
    ctx.logger.warn({ err, repo: repo.slug }, 'could not detect the language of a repository being activated; it can be detected again from its settings');
  }
}
