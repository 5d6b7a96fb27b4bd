// What the provider said about a repository's files at one commit: its language and
// whether the pipeline file is there. A commit's files never change, so this is asked
// once per commit (about 14 file look-ups) and kept in LanguageDetection, which
// holds the last few commits of each repository. The row's `language` column holds
// {"detected","config_path","has_config"} as JSON: the pipeline file's presence belongs
// to the same commit, and is valid only while the repository names the same file.
import type { ServerContext } from '../context.ts';
import type { RepoRow } from '../http/request.ts';
import { isLanguageId, type LanguageId } from './proposals.ts';

/** Commits of one repository whose detection is kept; older rows go when a new one is stored. */
export const KEPT_DETECTIONS = 5;

/** What the provider says about the repository's default branch at `commit`. */
export interface RepoProbe {
  /** '' before anything was detected (anonymous callers never cause a detection). */
  detected: LanguageId | '';
  /** Unknown (null) when only a detection for another pipeline file path is stored. */
  hasConfig: boolean | null;
  /** The commit the answer describes; '' when the branch has none or nothing was detected yet. */
  commit: string;
}

type Repo = Pick<RepoRow, 'id' | 'provider' | 'slug' | 'defaultBranch' | 'configPath'>;

interface Stored {
  detected: LanguageId;
  config_path: string;
  has_config: boolean;
}

function parse(row: { language: string; commit: string }, repo: Repo): RepoProbe | undefined {
  try {
    const stored = JSON.parse(row.language) as Stored;
    if (!isLanguageId(stored.detected)) return undefined;
    return { detected: stored.detected, hasConfig: stored.config_path === repo.configPath ? Boolean(stored.has_config) : null, commit: row.commit };
  } catch {
    return undefined;
  }
}

/** The stored detection at this commit, when it is complete for the repository's pipeline file path. */
export async function cachedProbe(ctx: Pick<ServerContext, 'db'>, repo: Repo, commit: string): Promise<RepoProbe | undefined> {
  const row = await ctx.db.languageDetection.findUnique({ where: { repoId_commit: { repoId: repo.id, commit } } });
  const found = row && parse(row, repo);
  return found && found.hasConfig !== null ? found : undefined;
}

/** The newest stored detection, whatever the commit: what callers who may not ask the provider get. */
export async function latestProbe(ctx: Pick<ServerContext, 'db'>, repo: Repo): Promise<RepoProbe | undefined> {
  const rows = await ctx.db.languageDetection.findMany({ where: { repoId: repo.id }, orderBy: { createdAt: 'desc' }, take: KEPT_DETECTIONS });
  for (const row of rows) {
    const found = parse(row, repo);
    if (found) return found;
  }
  return undefined;
}

export async function storeProbe(ctx: Pick<ServerContext, 'db' | 'now'>, repo: Repo, probe: RepoProbe & { detected: LanguageId; hasConfig: boolean }): Promise<void> {
  const language = JSON.stringify({ detected: probe.detected, config_path: repo.configPath, has_config: probe.hasConfig } satisfies Stored);
  const key = { repoId_commit: { repoId: repo.id, commit: probe.commit } };
  // The time orders the rows (latestProbe), and is in whole seconds: a detection stored within
  // the second of another is stamped one second after it, so the last stored is the newest.
  const newest = await ctx.db.languageDetection.findFirst({
    where: { repoId: repo.id, commit: { not: probe.commit } },
    orderBy: { createdAt: 'desc' },
    select: { createdAt: true },
  });
  const createdAt = Math.max(ctx.now(), (newest?.createdAt ?? 0) + 1);
  await ctx.db.languageDetection.upsert({ where: key, create: { repoId: repo.id, commit: probe.commit, language, createdAt }, update: { language, createdAt } });
  // The row just stored stays whatever its time.
  const older = await ctx.db.languageDetection.findMany({
    where: { repoId: repo.id, commit: { not: probe.commit } },
    orderBy: [{ createdAt: 'desc' }, { commit: 'asc' }],
    skip: KEPT_DETECTIONS - 1,
    select: { commit: true },
  });
  if (older.length) await ctx.db.languageDetection.deleteMany({ where: { repoId: repo.id, commit: { in: older.map((r) => r.commit) } } });
}

/**
 * The repository's language and pipeline file at the head of its default branch: one
 * call for the head commit, and the files only when that commit was not seen before
 * (or `fresh` asks to read them again). Throws the provider's error.
 */
export async function probeHead(
  ctx: Pick<ServerContext, 'db' | 'now' | 'providers'>,
  repo: Repo,
  token: string,
  detect: (ref: string) => Promise<{ detected: LanguageId; hasConfig: boolean }>,
  fresh = false,
): Promise<RepoProbe> {
  const head = (await ctx.providers.get(repo.provider).findCommit(token, repo.slug, { branch: repo.defaultBranch }))?.sha;
  // No branch (an empty repository): no files, so nothing to detect and nothing to keep.
  if (!head) return { detected: 'generic', hasConfig: false, commit: '' };
  if (!fresh) {
    const hit = await cachedProbe(ctx, repo, head);
    if (hit) return hit;
  }
  const probe = { ...(await detect(head)), commit: head };
  await storeProbe(ctx, repo, probe);
  return probe;
}
