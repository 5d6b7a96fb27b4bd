// Checks that a delivery was signed with the repository's hook secret, over the exact
// bytes received: re-serialised JSON would not hash the same. An unsigned delivery is
// never accepted: anyone who knows the hook's URL could otherwise start builds. What
// every provider shares is here; each provider's webhook checks its own headers.
import type { Provider } from '../../core/domain.ts';
import { signatureMismatch, type HookHeaders } from './hook-delivery.ts';
import type { ProviderWebhook } from './provider.ts';
import { builtInProviders } from './registry.ts';

export interface SignatureOptions {
  /**
   * Accept GitHub's SHA-1 X-Hub-Signature when X-Hub-Signature-256 is absent
   * (HARRIER_GITHUB_ALLOW_SHA1, for old GitHub Enterprise servers). Off by default.
   */
  allowSha1?: boolean;
  /** The repository's slug, for the messages. */
  repo?: string;
}

/**
 * Why the delivery does not prove that it came from the provider with `secret`, in words
 * for the 401 answer; undefined when its signature is valid. Timing-safe.
 */
export async function deliverySignatureProblem(
  webhook: ProviderWebhook,
  headers: HookHeaders,
  body: Buffer | Uint8Array,
  secret: string,
  repo = 'the repository',
): Promise<string | undefined> {
  if (!secret) return `Harrier holds no webhook secret for ${repo}, so it cannot check the delivery's signature; re-activate the repository to recreate its webhook with one`;
  if (body.length === 0) return signatureMismatch(repo);
  return webhook.signatureProblem(headers, body, secret, repo);
}

/** deliverySignatureProblem for a provider Harrier ships, named by its id. */
export function signatureProblem(
  provider: Provider,
  headers: HookHeaders,
  body: Buffer | Uint8Array,
  secret: string,
  opts: SignatureOptions = {},
): Promise<string | undefined> {
  return deliverySignatureProblem(builtInWebhook(provider, opts), headers, body, secret, opts.repo);
}

/** The webhook side of a provider Harrier ships, with SHA-1 signatures accepted as `opts` says. */
export function builtInWebhook(provider: Provider, opts: SignatureOptions = {}): ProviderWebhook {
  return builtInProviders({ githubAllowSha1: Boolean(opts.allowSha1) }).get(provider).webhook;
}
