// Bitbucket Cloud as one provider: its API and sign-in (api.ts, oauth.ts), its webhooks
// (webhook.ts, signature.ts), and how it is shown.
import type { ProviderConfig } from '../../config.ts';
import type { ProviderWebhook, ScmProvider } from '../provider.ts';
import { BitbucketScm } from './api.ts';
import { bitbucketWebhook } from './webhook.ts';

export class BitbucketProvider extends BitbucketScm implements ScmProvider {
  readonly name = 'Bitbucket';
  readonly envPrefix = 'HARRIER_BITBUCKET';
  readonly webhook: ProviderWebhook = bitbucketWebhook();

  constructor(config: ProviderConfig) {
    super(config);
  }

  get stateKey(): string {
    return this.config.clientSecret;
  }

  /** bitbucket.org, Atlassian's avatar CDN, and the configured host. */
  get imageSources(): string[] {
    return ['https://bitbucket.org', 'https://*.atl-paas.net', new URL(this.config.url).origin];
  }
}
