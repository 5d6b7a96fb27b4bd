// A build no webhook started: a user's manual build (Drone's "create build", event
// custom), a promotion or rollback of an earlier build, a cron job's build. Its starter
// names a branch and commit, or an earlier build to take them from, and the build's own
// facts (parameters, target, parent); from there it is made as a webhook's build is
// (trigger.ts): the pipeline file matched against those facts, one transaction, queued,
// and the commit status posted.
import type { Commit, EventName } from '../../core/domain.ts';
import type { MatchFacts } from '../../pipeline/index.ts';
import type { ServerContext } from '../context.ts';
import type { Build as BuildRow, Repo as RepoRow } from '../db/generated/sqlite/client.ts';
import { approvalReason } from '../builds/fork-powers.ts';
import { asRepoOwner } from '../builds/repo-token.ts';
import { badRequest, conflict, HttpError, notFound } from '../http/errors.ts';
import { ScmError, type CommitRef } from '../providers/scm.ts';
import { newBuildFacts, nextBuildNumber, retryingTakenNumbers } from './build-number.ts';
import { blockedPlan, createBuild, planStages, readPipelineFile, startBuild, type TriggerOptions } from './trigger.ts';

export type RefBuildEvent = Extract<EventName, 'custom' | 'promote' | 'rollback' | 'cron'>;

export interface RefBuildInput {
  event: RefBuildEvent;
  /** The branch to build; the repository's default branch when empty. Not used with `from`, whose branch it keeps. */
  branch?: string;
  /** The commit to build; when empty, the branch's head as the provider has it now. Not used with `from`. Its message, link and author come from the provider. */
  commit?: string;
  /** The earlier build whose commit, pipeline file and commit details the new one takes (promote, rollback). */
  from?: BuildRow;
  /** Build parameters: step variables and `${NAME}` substitutions (Build.params). */
  params: Record<string, string>;
  /** The promotion target: DRONE_DEPLOY_TO and the `target` condition. */
  deployTo?: string;
  /** The cron job's name: DRONE_CRON and the `cron` condition. */
  cron?: string;
  /** Who or what started it (Build.trigger, DRONE_BUILD_TRIGGER): a login, or e.g. "@cron". */
  trigger: string;
  /**
   * Whose action the build answers (Build.sender): the user for a manual build, the promoted
   * build's sender for a promotion; when absent, the commit's author (a cron build), as in Drone.
   */
  sender?: string;
  /** Checked in the build's transaction (TriggerOptions.claim): a cron run's claim, ended with the build. */
  claim?: TriggerOptions['claim'];
}

/** No pipeline's trigger accepts the build: nothing is made (400 to a user; a cron job records why). */
export class NoPipelineRuns extends HttpError {
  constructor(message: string) {
    super(400, message);
  }
}

/** The branch to build does not exist on the provider (404). */
export class BranchNotFound extends HttpError {
  constructor(message: string) {
    super(404, message);
  }
}

const stripHeads = (branch: string) => branch.replace(/^refs\/heads\//, '');

/** Creates and queues the build, or throws an HttpError saying why it cannot be made. */
export async function buildFromRef(ctx: ServerContext, repo: RepoRow, input: RefBuildInput): Promise<BuildRow> {
  if (!repo.active) throw conflict(`${repo.slug} is not active in Harrier; activate it (POST /api/repos/${repo.slug}) before starting builds`);
  const { from } = input;
  const branch = from ? from.target : stripHeads(input.branch || repo.defaultBranch);
  if (!branch) throw badRequest(`${repo.slug} has no default branch (an empty repository?); name the branch to build with ?branch=`);
  const ref = from ? from.ref : `refs/heads/${branch}`;
  const commit = from ? parentCommit(from) : await findCommit(ctx, repo, input.commit ? { sha: input.commit } : { branch });
  const { config, configSource } = from ? { config: from.config, configSource: from.configSource } : await pipelineFile(ctx, repo, commit.sha);

  const facts: MatchFacts = {
    branch,
    event: input.event,
    ref,
    target: input.deployTo ?? '',
    action: from?.action ?? '',
    repo: repo.slug,
    instance: new URL(ctx.config.host).host,
    cron: input.cron ?? '',
    status: 'success',
    // Only a push or a pull request changes files; `paths` conditions match every other build.
    changedFiles: undefined,
  };
  // Read with the number the build would get; made again if another build takes it meanwhile (build-number.ts).
  return retryingTakenNumbers(async () => {
    const now = ctx.now();
    const base = {
      status: 'pending',
      event: input.event,
      action: from?.action ?? '',
      trigger: input.trigger,
      link: commit.link,
      timestamp: commit.timestamp || now,
      title: from?.title ?? '',
      message: commit.message,
      before: from?.before ?? commit.sha,
      after: commit.sha,
      ref,
      sourceRepo: from?.sourceRepo ?? repo.slug,
      source: from?.source ?? branch,
      target: branch,
      fork: from?.fork ?? false,
      authorLogin: commit.author.login,
      authorName: commit.author.name,
      authorEmail: commit.author.email,
      authorAvatar: commit.author.avatar,
      sender: input.sender ?? commit.author.login,
      params: JSON.stringify(input.params),
      cron: input.cron ?? '',
      deployTo: input.deployTo ?? '',
      parent: from?.number ?? 0,
      // An earlier build's approval covers its commit, as a restart's does.
      approvedBy: from?.approvedBy ?? '',
      configSource,
      changedFiles: null,
      createdAt: now,
      updatedAt: now,
    };
    const read = newBuildFacts(ctx, repo, base, await nextBuildNumber(ctx, repo.id));
    const { checked } = await readPipelineFile(ctx, config, repo.trusted, read);
    const plan = await planStages(ctx, checked, repo, facts, repo.configPath, now);
    if (plan.ok === 'none') throw new NoPipelineRuns(noPipelineMessage(repo, input, branch));
    // No webhook starts these, and as in Drone a protected repository holds only what its webhooks
    // start: a user's build (as a restart) and a cron job's build run without approval.
    const blocked = approvalReason(repo, { event: input.event, fork: from?.fork ?? false, approvedBy: from?.approvedBy ?? '' }, false);
    const fields = { ...base, status: blocked ? 'blocked' : 'pending' };
    const build = await createBuild(ctx, repo, fields, { config, facts: read }, blocked ? blockedPlan(plan) : plan, undefined, input.claim);
    if (blocked) ctx.logger.info({ event: 'build_blocked', repo: repo.slug, build: build.number, reason: blocked }, 'build waits for approval');
    await startBuild(ctx, repo, build);
    return build;
  });
}

/** An earlier build's commit, with the details its build took from the provider or a webhook (promote, rollback). */
function parentCommit(from: BuildRow): Commit {
  return {
    sha: from.after,
    message: from.message,
    link: from.link,
    timestamp: from.timestamp,
    author: { login: from.authorLogin, name: from.authorName, email: from.authorEmail, avatar: from.authorAvatar },
  };
}

/** The commit the branch points at now, or the one the hash names, with its details, from the provider (as Drone's create build). */
async function findCommit(ctx: ServerContext, repo: RepoRow, ref: CommitRef): Promise<Commit> {
  const provider = ctx.providers.nameOf(repo.provider);
  const what = 'branch' in ref ? `the head of branch ${ref.branch}` : `commit ${ref.sha}`;
  const commit = await asProvider(ctx, repo, `asking ${provider} for ${what}`, (token) => ctx.providers.get(repo.provider).findCommit(token, repo.slug, ref));
  if (commit) return commit;
  if ('branch' in ref) throw new BranchNotFound(`${repo.slug} has no branch ${ref.branch} on ${provider}; name an existing branch (?branch=), or a commit (?commit=)`);
  throw notFound(`${repo.slug} has no commit ${ref.sha} on ${provider}; name an existing commit (?commit=), or leave it out to build the head of the branch`);
}

/** The repository's pipeline file at the commit; without one, its language settings' proposal. */
async function pipelineFile(ctx: ServerContext, repo: RepoRow, commit: string): Promise<{ config: string; configSource: string }> {
  const provider = ctx.providers.nameOf(repo.provider);
  const file = await asProvider(ctx, repo, `reading ${repo.configPath} at ${commit} from ${provider}`, (token) =>
    ctx.providers.get(repo.provider).file(token, repo.slug, commit, repo.configPath),
  );
  if (file !== null) return { config: file, configSource: 'file' };
  if (repo.pipelineProposal) return { config: repo.pipelineProposal, configSource: 'proposal' };
  throw notFound(
    `${repo.slug} has no ${repo.configPath} at commit ${commit}, and its language settings propose no pipeline; commit a pipeline file, or name another commit`,
  );
}

/** A provider's refusal (a bad branch name, a revoked grant) answers 400 with its words; its outages and rate limits 502. */
async function asProvider<T>(ctx: ServerContext, repo: RepoRow, doing: string, call: (token: string) => Promise<T>): Promise<T> {
  try {
    return await asRepoOwner(ctx, repo, call);
  } catch (err) {
    if (!(err instanceof ScmError)) throw err;
    if (err.status < 500 && err.status !== 429) throw badRequest(`${doing} failed: ${err.message}`);
    throw new HttpError(502, `${doing} failed: ${err.message}; try again later`);
  }
}

function noPipelineMessage(repo: RepoRow, input: RefBuildInput, branch: string): string {
  const what = `a ${input.event} build of ${branch}${input.deployTo ? ` to target ${input.deployTo}` : ''}${input.cron ? ` for cron job ${input.cron}` : ''}`;
  const needs = [`event ${input.event}`, `branch ${branch}`, input.deployTo && `target ${input.deployTo}`, input.cron && `cron ${input.cron}`].filter(Boolean).join(', ');
  return `no pipeline in ${repo.configPath} runs for ${what}: every pipeline's trigger leaves it out; let the trigger of the pipeline that should run accept ${needs}`;
}
