// GitHub (github.com or GitHub Enterprise Server) as one provider: its API and sign-in
// (api.ts, oauth.ts), its webhooks (webhook.ts, signature.ts), and how it is shown.
import type { ProviderConfig } from '../../config.ts';
import type { ProviderWebhook, ScmProvider } from '../provider.ts';
import { GithubScm } from './api.ts';
import type { GithubSignatureOptions } from './signature.ts';
import { githubWebhook } from './webhook.ts';

export class GithubProvider extends GithubScm implements ScmProvider {
  readonly name = 'GitHub';
  readonly envPrefix = 'HARRIER_GITHUB';
  readonly webhook: ProviderWebhook;

  constructor(config: ProviderConfig, opts: GithubSignatureOptions = {}) {
    super(config);
    this.webhook = githubWebhook(opts);
  }

  get stateKey(): string {
    return this.config.clientSecret;
  }

  /** github.com's avatar CDN, the configured host, and its avatars subdomain (GitHub Enterprise Server with subdomain isolation). */
  get imageSources(): string[] {
    const url = new URL(this.config.url);
    return ['https://avatars.githubusercontent.com', url.origin, `${url.protocol}//avatars.${url.host}`];
  }
}
