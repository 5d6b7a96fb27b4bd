// A normalised webhook becomes a build: read the pipeline file at the pushed
// commit, keep the pipelines whose trigger matches, record the build with its
// stages and steps in one transaction, queue the stages that can start, and tell
// the provider the build is pending. A build that needs approval (a protected
// repository, a fork's pull request on a trusted one: builds/fork-powers.ts) is
// recorded `blocked` with all its stages, and nothing is queued until someone approves.
import type { Hook } from '../../core/domain.ts';
import { buildFacts, formatPipelineErrors, runsAfter, stageSteps, type CheckResult, type MatchFacts, type SubstitutionInput } from '../../pipeline/index.ts';
import type { Conditions, Pipeline } from '../../pipeline/types.ts';
import { announceBuild } from '../builds/build-state.ts';
import { buildJson, repoJson } from '../api/serialize.ts';
import { systemInfo } from '../system-info.ts';
import type { ServerContext } from '../context.ts';
import type { Build as BuildRow, Delivery as DeliveryRow, Prisma, Repo as RepoRow } from '../db/generated/sqlite/client.ts';
import { asRepoOwner } from '../builds/repo-token.ts';
import { sameCommit } from '../providers/parse-hook.ts';
import { changedFilesFor } from './changed-files.ts';
import { codeSource } from './code-source.ts';
import { PipelineJobFailed } from '../pipelines/pipeline-thread.ts';
import { laneOf } from '../queue/lanes.ts';
import { flavourOf } from '../db/flavour.ts';
import { insertSteps } from '../builds/insert-steps.ts';
import { keptDependencies } from './stage-graph.ts';
import { type BuildFields, checkReadsTheSame, newBuildFacts, nextBuildNumber, retryingTakenNumbers } from './build-number.ts';
import { approvalReason } from '../builds/fork-powers.ts';
import { duplicateBodyReason, earlierTwin, markBuilt } from '../deliveries/delivery-store.ts';

export type TriggerResult =
  | { kind: 'build'; build: BuildRow }
  | { kind: 'ignored'; reason: string };

const SKIP_CI = /\[(skip ci|ci skip)\]/i;

export function hookFacts(hook: Hook, repo: Pick<RepoRow, 'slug'>, host: string): MatchFacts {
  return {
    branch: hook.target,
    event: hook.event,
    ref: hook.ref,
    // Drone's `target` condition is the promotion target and `cron` the cron job, which a webhook never has.
    target: '',
    action: hook.action,
    repo: repo.slug,
    instance: new URL(host).host,
    cron: '',
    status: 'success',
  };
}

/** The trigger's status condition decides when a stage runs (after success, after failure), not whether it exists. */
function withoutStatus(conditions: Conditions): Conditions {
  const { status: _status, ...rest } = conditions;
  return rest;
}

function buildFields(hook: Hook, now: number) {
  return {
    status: 'pending',
    event: hook.event,
    action: hook.action,
    trigger: '@hook',
    cron: '',
    link: hook.link,
    timestamp: hook.timestamp || now,
    title: hook.title,
    message: hook.message,
    before: hook.before,
    after: hook.after,
    ref: hook.ref,
    sourceRepo: hook.sourceRepo,
    source: hook.source,
    target: hook.target,
    fork: hook.fork,
    authorLogin: hook.author.login,
    authorName: hook.author.name,
    authorEmail: hook.author.email,
    authorAvatar: hook.author.avatar,
    sender: hook.sender,
    createdAt: now,
    updatedAt: now,
  };
}

function stageRecords(pipelines: Pipeline[], repoId: number, now: number, dependsOn: (p: Pipeline) => string[] = (p) => p.dependsOn) {
  return pipelines.map((p, i) => ({
    repoId,
    number: i + 1,
    name: p.name,
    kind: p.kind,
    type: p.type,
    status: dependsOn(p).length ? 'waiting_on_dependencies' : 'pending',
    os: p.platform.os,
    arch: p.platform.arch,
    variant: p.platform.variant,
    limit: p.concurrency.limit,
    ...runsAfter(p.trigger.status),
    dependsOn: JSON.stringify(dependsOn(p)),
    labels: JSON.stringify(p.node),
    lane: laneOf({ repoId, os: p.platform.os, arch: p.platform.arch, labels: JSON.stringify(p.node) }),
    queuedAt: now,
    createdAt: now,
    updatedAt: now,
    steps: {
      create: stageSteps(p).map((s) => ({
        number: s.number,
        name: s.name,
        status: 'pending',
        image: s.image,
        detached: s.detached,
        errignore: s.errignore,
        dependsOn: JSON.stringify(s.dependsOn),
      })),
    },
  }));
}

export class DuplicateDeliveryError extends Error {}

export type StagePlan = { ok: true; stages: ReturnType<typeof stageRecords>; error: '' } | { ok: false; stages: []; error: string } | { ok: 'none' };

/**
 * The file with the build's facts substituted, parsed and linted on the pipeline thread, as the
 * runner reads it; a file the thread gave up on is an error like any other.
 */
export async function readPipelineFile(ctx: ServerContext, config: string, trusted: boolean, facts: SubstitutionInput): Promise<{ checked: CheckResult; usesPaths: boolean }> {
  try {
    return await ctx.pipelines.check(config, trusted, facts);
  } catch (err) {
    if (!(err instanceof PipelineJobFailed)) throw err;
    return { checked: { ok: false, errors: [{ line: 1, col: 1, message: err.message }] }, usesPaths: false };
  }
}

/** Which stages a build of this file gets for these facts; a malformed file gives an error build instead. */
export async function planStages(ctx: ServerContext, checked: CheckResult, repo: RepoRow, facts: MatchFacts, configPath: string, now: number): Promise<StagePlan> {
  if (!checked.ok) return { ok: false, stages: [], error: formatPipelineErrors(configPath, checked.errors) };
  let matches: boolean[];
  try {
    matches = await ctx.pipelines.match(checked.pipelines.map((p) => withoutStatus(p.trigger)), facts);
  } catch (err) {
    if (!(err instanceof PipelineJobFailed)) throw err;
    return { ok: false, stages: [], error: `${configPath}: ${err.message}` };
  }
  const matching = checked.pipelines.filter((_, i) => matches[i]);
  if (matching.length === 0) return { ok: 'none' };
  const kept = new Set(matching.map((p) => p.name));
  return { ok: true, stages: stageRecords(matching, repo.id, now, (p) => keptDependencies(p, checked.pipelines, kept)), error: '' };
}

export interface TriggerOptions {
  /** Build only when the head differs from the last build of this pull request (Bitbucket's pullrequest:updated). */
  requireNewHead?: boolean;
  /**
   * The stored delivery being handled (deliveries/delivery-store.ts). The build transaction
   * marks it built, and refuses when it already is, so one delivery makes one build. A
   * delivery whose body was already received under another delivery id is a replay (anyone
   * who saw a signed delivery can resend it) and builds nothing, unless it is a redelivery.
   */
  delivery?: TriggerDelivery;
  /**
   * Checked inside the build transaction, after the number is taken: a reason (the run this
   * build is for is no longer the caller's, e.g. a cron claim that lapsed and another server
   * took) rolls the build back with a ClaimLost; its writes commit with the build or not at all.
   */
  claim?: (tx: Prisma.TransactionClient) => Promise<string | undefined>;
}

/** The build was not made: the run it was for is someone else's now (TriggerOptions.claim). */
export class ClaimLost extends Error {}

export type TriggerDelivery = Pick<DeliveryRow, 'id' | 'provider' | 'guid' | 'bodyHash' | 'redeliveryOf'>;

/** Why the repository's settings leave this delivery unbuilt, or undefined. */
function ignoredBySettings(repo: Pick<RepoRow, 'ignorePullRequests' | 'ignoreForks'>, hook: Hook): string | undefined {
  if (hook.event !== 'pull_request') return undefined;
  if (repo.ignorePullRequests) return 'the repository ignores pull requests (ignore_pull_requests)';
  if (repo.ignoreForks && hook.fork) return `the repository ignores pull requests from forks (ignore_forks); this one comes from ${hook.sourceRepo || 'a deleted fork'}`;
  return undefined;
}

export function trigger(ctx: ServerContext, received: Hook, opts: TriggerOptions = {}): Promise<TriggerResult> {
  // The file is asked of the provider once: a build made again because its number was taken
  // substitutes the same text with its new number.
  const files: FileReads = new Map();
  return retryingTakenNumbers(() => triggerOnce(ctx, received, opts, files));
}

/** Pipeline files read by one trigger(), by repository and commit. */
type FileReads = Map<string, Promise<string | null>>;

function readOnce(files: FileReads, key: string, read: () => Promise<string | null>): Promise<string | null> {
  let file = files.get(key);
  if (!file) files.set(key, (file = read()));
  return file;
}

async function triggerOnce(ctx: ServerContext, received: Hook, opts: TriggerOptions, files: FileReads): Promise<TriggerResult> {
  const repo = await ctx.db.repo.findUnique({ where: { provider_uid: { provider: received.provider, uid: received.repo.uid } } });
  if (!repo || !repo.active) return { kind: 'ignored', reason: `repository ${received.repo.slug} is not active in Harrier` };
  const ignored = ignoredBySettings(repo, received);
  if (ignored) return { kind: 'ignored', reason: ignored };
  if (opts.delivery) {
    const twin = await earlierTwin(ctx.db, opts.delivery);
    if (twin) return { kind: 'ignored', reason: duplicateBodyReason(opts.delivery.guid, twin.guid) };
  }
  // Drone skips on [skip ci] only for changes someone just made: not for tags (nor cron jobs, build-from-ref.ts).
  if (received.event !== 'tag' && SKIP_CI.test(`${received.title}\n${received.message}`)) {
    return { kind: 'ignored', reason: 'the commit message asks to skip CI ([skip ci])' };
  }
  if (opts.requireNewHead) {
    const last = await ctx.db.build.findFirst({ where: { repoId: repo.id, ref: received.ref }, orderBy: { number: 'desc' } });
    if (last && sameCommit(last.after, received.after)) return { kind: 'ignored', reason: 'the pull request head commit did not change' };
  }

  // A fork's pull request on Bitbucket reads its file from the fork, at the commit's full hash.
  const { hook, slug: codeRepo, cloneUrl, problem } = await codeSource(ctx, repo, received);
  const file = await readOnce(files, `${codeRepo}@${hook.after}:${repo.configPath}`, () =>
    asRepoOwner(ctx, repo, (token) => ctx.providers.get(repo.provider).file(token, codeRepo, hook.after, repo.configPath)),
  );
  // Without a pipeline file of its own, the repository builds with its language settings' proposal.
  const config = file ?? (repo.pipelineProposal || null);
  if (config === null) return { kind: 'ignored', reason: `no ${repo.configPath} at commit ${hook.after}, and no proposed pipeline in the repository's language settings` };
  const configSource = file === null ? 'proposal' : 'file';
  // Asked only when the file has a `paths` condition; undefined (unknown) makes `paths` match.
  const now = ctx.now();
  const facts = newBuildFacts(ctx, repo, buildFields(hook, now), await nextBuildNumber(ctx, repo.id));
  const read = await readPipelineFile(ctx, config, repo.trusted, facts);
  const changedFiles = read.usesPaths ? await asRepoOwner(ctx, repo, (token) => changedFilesFor(ctx, repo, token, hook)) : undefined;
  const plan: StagePlan = problem
    ? { ok: false, stages: [], error: problem }
    : await planStages(ctx, read.checked, repo, { ...hookFacts(hook, repo, ctx.config.host), changedFiles }, repo.configPath, now);
  if (plan.ok === 'none') return { kind: 'ignored', reason: 'no pipeline trigger matches this event' };
  // As Drone's, a protected repository holds builds its webhooks start (not its cron jobs', build-from-ref.ts).
  const blocked = approvalReason(repo, { event: hook.event, fork: hook.fork, approvedBy: '' }, true);
  const fields = { ...buildFields(hook, now), sourceCloneUrl: cloneUrl, ...(blocked ? { status: 'blocked' } : {}), configSource, changedFiles: changedFiles ? JSON.stringify(changedFiles) : null };
  const build = await createBuild(ctx, repo, fields, { config, facts }, blocked ? blockedPlan(plan) : plan, opts.delivery, opts.claim);
  if (blocked && build.status === 'blocked') ctx.logger.info({ event: 'build_blocked', repo: repo.slug, build: build.number, reason: blocked }, 'build waits for approval');
  await startBuild(ctx, repo, build);
  return { kind: 'build', build };
}

/** Runs a finished build again as a new build, from the same commit and pipeline file (Drone's restart). */
export function restartBuild(ctx: ServerContext, repo: RepoRow, old: BuildRow, by: string): Promise<BuildRow> {
  return retryingTakenNumbers(() => restartOnce(ctx, repo, old, by));
}

async function restartOnce(ctx: ServerContext, repo: RepoRow, old: BuildRow, by: string): Promise<BuildRow> {
  const now = ctx.now();
  // approvedBy is kept: a restart may do what its build was approved to do, and no more.
  const { id: _id, number: _number, repoId: _repoId, status: _s, error: _e, started: _st, finished: _f, version: _v, cancelled: _c, logsPurged: _lp, createdAt: _ca, updatedAt: _ua, config, ...kept } = old;
  const facts = buildFacts({
    build: buildJson(old),
    repo: repoJson(repo),
    system: systemInfo(ctx.config.host),
    changedFiles: old.changedFiles ? (JSON.parse(old.changedFiles) as string[]) : undefined,
  });
  const blocked = approvalReason(repo, old, false);
  const fields = { ...kept, status: blocked ? 'blocked' : 'pending', parent: old.number, trigger: by, createdAt: now, updatedAt: now };
  const readFor = newBuildFacts(ctx, repo, fields, await nextBuildNumber(ctx, repo.id));
  const { checked } = await readPipelineFile(ctx, config, repo.trusted, readFor);
  const plan = await planStages(ctx, checked, repo, facts, repo.configPath, now);
  const planned: Exclude<StagePlan, { ok: 'none' }> = plan.ok === 'none' ? { ok: true, stages: [], error: '' } : plan;
  const build = await createBuild(ctx, repo, fields, { config, facts: readFor }, blocked ? blockedPlan(planned) : planned);
  await startBuild(ctx, repo, build);
  return build;
}

/** Every stage waits in `blocked` until the build is approved (builds/build-state.ts approveBuild). */
export function blockedPlan(plan: Exclude<StagePlan, { ok: 'none' }>): Exclude<StagePlan, { ok: 'none' }> {
  return plan.ok ? { ...plan, stages: plan.stages.map((s) => ({ ...s, status: 'blocked' })) } : plan;
}

export async function startBuild(ctx: ServerContext, repo: RepoRow, build: BuildRow): Promise<void> {
  ctx.logger.info({ event: 'build_created', repo: repo.slug, build: build.number, hook: build.event, status: build.status }, 'build created');
  await announceBuild(ctx, repo, build);
}

/**
 * A burst of deliveries for one repository queues on its row (the counter update in createBuild):
 * each may wait its turn longer than Prisma's defaults allow (2 s for a connection, 5 s in all).
 */
const BURST_PATIENCE = { maxWait: 15_000, timeout: 30_000 };

export async function createBuild(
  ctx: ServerContext,
  repo: RepoRow,
  fields: BuildFields,
  /** The file, and the facts it was read with (the number it would get among them). */
  { config, facts }: { config: string; facts: SubstitutionInput },
  plan: Exclude<StagePlan, { ok: 'none' }>,
  delivery?: TriggerDelivery,
  claim?: TriggerOptions['claim'],
): Promise<BuildRow> {
  const now = fields.createdAt;
  const flavour = flavourOf(ctx.config.databaseUrl);
  return ctx.db.$transaction(async (tx) => {
    const { counter } = await tx.repo.update({ where: { id: repo.id }, data: { counter: { increment: 1 } }, select: { counter: true } });
    checkReadsTheSame(config, facts, counter);
    if (delivery) {
      // Checked again after the repository row is locked by the update above: two replays of one
      // body stored together are serialised there, and the second sees the first one built.
      const twin = await earlierTwin(tx, delivery, true);
      if (twin) throw new DuplicateDeliveryError(duplicateBodyReason(delivery.guid, twin.guid));
      // The delivery is marked built with its build, so it either made its build or can be retried.
      if (!(await markBuilt(tx, delivery.id, counter, now))) throw new DuplicateDeliveryError(`delivery ${delivery.guid} already made its build`);
    }
    const lost = claim && (await claim(tx));
    if (lost) throw new ClaimLost(lost);
    const build = await tx.build.create({
      data: {
        ...fields,
        repoId: repo.id,
        number: counter,
        config,
        ...(plan.error ? { status: 'error', error: plan.error, started: now, finished: now } : {}),
      },
    });
    for (const { steps, ...stage } of plan.stages) {
      const { id } = await tx.stage.create({ data: { ...stage, buildId: build.id }, select: { id: true } });
      await insertSteps(tx, flavour, id, steps.create);
    }
    return build;
  }, BURST_PATIENCE);
}
