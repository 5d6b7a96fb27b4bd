// The secrets a stage's server sent, put where its steps need them: into a step's
// environment (from_secret) and into the registry credentials its pulls use
// (image_pull_secrets). The backend sees plain environment and credentials only.
import type { Logger } from '../core/log.ts';
import type { StageDetails } from '../core/protocol.ts';
import type { Plan, PlanStep } from '../pipeline/types.ts';
import { parseDockerConfig, type RegistryCredential } from './backend/registry-auth.ts';

function missingSecretMessage(secret: string, envName: string, event: string): string {
  const why =
    event === 'pull_request'
      ? 'neither the repository nor its organisation has a secret of that name, or the secret does not allow pull requests (set its pull_request to true)'
      : 'neither the repository nor its organisation has a secret of that name; add it with POST /api/repos/{owner}/{name}/secrets, or POST /api/secrets/{namespace} for the whole organisation';
  return `secret "${secret}" (for ${envName}) is not available to this build: ${why}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The plan's image_pull_secrets, each a secret holding a Docker config.json; missing or malformed ones are logged and left out. */
export function registryCredentials(plan: Plan, secrets: StageDetails['secrets'], logger?: Logger): RegistryCredential[] {
  const out: RegistryCredential[] = [];
  for (const name of plan.imagePullSecrets ?? []) {
    const value = secrets.find((s) => s.name === name)?.value;
    if (value === undefined) {
      logger?.warn({ event: 'pull_secret_missing', secret: name }, 'image pull secret not available to this stage');
      continue;
    }
    try {
      out.push(...parseDockerConfig(value));
    } catch (err) {
      logger?.warn({ event: 'pull_secret_invalid', secret: name, err: messageOf(err) }, `image pull secret ${name} ${messageOf(err)}`);
    }
  }
  return out;
}

/**
 * The step with its secrets resolved into its environment, laid over `base` (what the runner
 * adds: step-environ.ts). A secret the server did not send fails the step: running it
 * without would hide the cause.
 */
export function withSecrets(details: Pick<StageDetails, 'secrets' | 'build'>, step: PlanStep, base: Record<string, string> = {}): PlanStep {
  const env = { ...base, ...step.env };
  for (const [name, secret] of Object.entries(step.secretEnv)) {
    const value = details.secrets.find((s) => s.name === secret)?.value;
    if (value !== undefined) env[name] = value;
    else throw new Error(missingSecretMessage(secret, name, details.build.event));
  }
  return { ...step, env };
}
