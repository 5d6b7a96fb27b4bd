// Builds one Scm per provider from the server's configuration. The rest of the
// server picks one by the repository's or user's provider and never looks further.
import type { Provider } from '../../core/domain.ts';
import type { ServerConfig } from '../config.ts';
import { BitbucketScm } from './bitbucket/api.ts';
import { GithubScm } from './github/api.ts';
import type { Scm } from './scm.ts';
import type { ProviderWebhook } from './provider.ts';
import { bitbucketWebhook } from './bitbucket/webhook.ts';
import type { GithubSignatureOptions } from './github/signature.ts';
import { githubWebhook } from './github/webhook.ts';

export { ScmError } from './scm.ts';
export type { CommitState, CommitStatus, Scm, ScmRepo, ScmToken, ScmUser } from './scm.ts';

export function createScms(config: Pick<ServerConfig, 'github' | 'bitbucket'>): Record<Provider, Scm> {
  return {
    github: new GithubScm(config.github),
    bitbucket: new BitbucketScm(config.bitbucket),
  };
}

/** The webhook side of every provider Harrier ships; `opts` as the server's configuration sets them. */
export function builtInWebhooks(opts: GithubSignatureOptions = {}): Record<Provider, ProviderWebhook> {
  return { github: githubWebhook(opts), bitbucket: bitbucketWebhook() };
}
