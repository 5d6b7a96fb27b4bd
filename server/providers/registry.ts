// Builds one Scm per provider from the server's configuration. The rest of the
// server picks one by the repository's or user's provider and never looks further.
import type { Provider } from '../../core/domain.ts';
import type { ServerConfig } from '../config.ts';
import { BitbucketScm } from './bitbucket/api.ts';
import { GithubScm } from './github/api.ts';
import type { Scm } from './scm.ts';

export { ScmError } from './scm.ts';
export type { CommitState, CommitStatus, Scm, ScmRepo, ScmToken, ScmUser } from './scm.ts';

export function createScms(config: Pick<ServerConfig, 'github' | 'bitbucket'>): Record<Provider, Scm> {
  return {
    github: new GithubScm(config.github),
    bitbucket: new BitbucketScm(config.bitbucket),
  };
}
