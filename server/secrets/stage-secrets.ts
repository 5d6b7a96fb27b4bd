// Which secrets a runner gets for a stage: only those the stage's pipeline names, and,
// for pull requests from forks, none until a user with write permission approved the
// build, then only those marked pull_request. A fork's pull request can change the
// pipeline file, so whoever can open one could print any secret the build receives.
// A pull request from a branch of the repository itself comes from someone who can push
// there, and a push builds with every secret anyway, so withholding them from it protects
// nothing (Drone withholds them from every pull request; Harrier follows the issue's
// rule: forks only).
// Organisation secrets of the repository's namespace fill in names the repository has no
// secret for, under the same rules; a repository secret of the same name wins.
import type { Logger } from '../../core/log.ts';
import { parseBuildFile, type SubstitutionInput } from '../../pipeline/index.ts';
import { isSecretRef } from '../../pipeline/plugin-settings.ts';
import type { ParseResult, Pipeline, PipelineStep } from '../../pipeline/types.ts';
import type { Db } from '../db/client.ts';
import type { Build as BuildRow, Repo as RepoRow } from '../db/generated/sqlite/client.ts';
import { isApproved, isForkPullRequest } from '../builds/fork-powers.ts';
import { orgSecretContext, secretContext, type SecretBox } from './secret-box.ts';

export interface StageSecret {
  name: string;
  value: string;
}

/** Secret names the pipeline refers to: from_secret in environment (pipeline, steps, services) and settings, and image_pull_secrets. */
export function pipelineSecretNames(pipeline: Pipeline): string[] {
  const names = new Set<string>();
  const fromEnvironment = (env: PipelineStep['environment']) => {
    for (const v of Object.values(env)) if (v.fromSecret) names.add(v.fromSecret);
  };
  fromEnvironment(pipeline.environment);
  for (const step of [...pipeline.services, ...pipeline.steps]) {
    fromEnvironment(step.environment);
    for (const value of Object.values(step.settings)) if (isSecretRef(value) && value.from_secret) names.add(value.from_secret);
  }
  for (const name of pipeline.imagePullSecrets) if (name) names.add(name);
  return [...names].sort();
}

/**
 * The names the stage's pipeline in the build's pipeline file refers to, read with the build's
 * facts substituted as the runner reads it (`from_secret: token_${DRONE_BRANCH}`); none when the
 * file does not parse (the runner reports that).
 */
export function stageSecretNames(config: string, facts: SubstitutionInput, stageName: string): string[] {
  return secretNamesOf(parseBuildFile(config, facts), stageName);
}

function secretNamesOf(parsed: ParseResult, stageName: string): string[] {
  if (!parsed.ok) return [];
  const pipeline = parsed.pipelines.find((p) => p.name === stageName);
  return pipeline ? pipelineSecretNames(pipeline) : [];
}

export interface StageSecretsInput {
  db: Db;
  logger: Logger;
  /** undefined when HARRIER_DATABASE_SECRET is not set: stored secrets cannot be read. */
  box: SecretBox | undefined;
  build: Pick<BuildRow, 'id' | 'number' | 'repoId' | 'event' | 'fork' | 'config' | 'approvedBy' | 'status'>;
  repo: Pick<RepoRow, 'slug' | 'provider' | 'namespace'>;
  stageName: string;
  /** Parses the build's pipeline file with the build's facts substituted; the server does it on its pipeline thread, off the event loop. */
  parse(config: string): Promise<ParseResult>;
}

/**
 * The decrypted secrets the stage may have, each under the name the pipeline wrote
 * (matched ignoring case, as Drone matches). A name with no secret, a withheld one and
 * one that does not decrypt are left out and logged by name only; the runner then fails
 * the step that needs it, naming the secret.
 */
export async function stageSecrets(input: StageSecretsInput): Promise<StageSecret[]> {
  const { db, build, box } = input;
  // A file the thread gives up on fails at the runner, which reads it again and says why.
  const parsed = await input.parse(build.config).catch((): ParseResult => ({ ok: false, errors: [] }));
  const names = secretNamesOf(parsed, input.stageName);
  if (names.length === 0) return [];
  const log = input.logger.child({ repo: input.repo.slug, build: build.number, stage: input.stageName });
  const fork = isForkPullRequest(build);
  if (fork && !isApproved(build)) {
    for (const name of names) log.info({ event: 'secret_withheld', secret: name, fork }, `secret "${name}" withheld from a fork's pull request that no one approved`);
    return [];
  }
  const repoRows = (await db.secret.findMany({ where: { repoId: build.repoId } })).map((r) => ({ ...r, context: secretContext(r.repoId, r.name) }));
  const { provider, namespace } = input.repo;
  const orgRows = (await db.orgSecret.findMany({ where: { provider, namespace: namespace.toLowerCase() } })).map((r) => ({
    ...r,
    context: orgSecretContext(r.provider, r.namespace, r.name),
  }));
  const out: StageSecret[] = [];
  for (const name of names) {
    const row = findByName(repoRows, name) ?? findByName(orgRows, name);
    if (!row) {
      log.info({ event: 'secret_not_found', secret: name }, `the pipeline names secret "${name}", which neither the repository nor its organisation ${namespace} has`);
      continue;
    }
    if (fork && !row.pullRequest) {
      log.info({ event: 'secret_withheld', secret: row.name, fork }, `secret "${row.name}" withheld from a fork's pull request (it does not allow pull requests)`);
      continue;
    }
    if (!box) {
      log.error({ event: 'secret_unreadable', secret: row.name }, `secret "${row.name}" cannot be decrypted: HARRIER_DATABASE_SECRET is not set`);
      continue;
    }
    try {
      out.push({ name, value: box.open(row.data, row.context) });
    } catch (err) {
      log.error({ event: 'secret_unreadable', secret: row.name, reason: err instanceof Error ? err.message : String(err) }, `secret "${row.name}" cannot be decrypted`);
    }
  }
  return out;
}

/** The secret named `name`: spelled alike first, then ignoring case, as Drone matches. */
function findByName<T extends { name: string }>(rows: T[], name: string): T | undefined {
  return rows.find((r) => r.name === name) ?? rows.find((r) => r.name.toLowerCase() === name.toLowerCase());
}
