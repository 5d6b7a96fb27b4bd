// Every provider Harrier can talk to, built once from the server's configuration and
// looked up by its id (the `provider` stored with users, repositories and deliveries).
// The rest of the server asks the registry and never names a provider itself.
//
// Adding a provider: a folder beside github/ and bitbucket/ with a class implementing
// ScmProvider (provider.ts), one entry in PROVIDER_FACTORIES, its id in core/domain.ts's
// Provider, and its HARRIER_<NAME>_* variables in config.ts.
import type { Provider } from '../../core/domain.ts';
import { loadServerConfig, type ServerConfig } from '../config.ts';
import { BitbucketProvider } from './bitbucket/provider.ts';
import { GithubProvider } from './github/provider.ts';
import { HookError, type HookHeaders } from './hook-delivery.ts';
import type { ScmProvider } from './provider.ts';

export { ScmError } from './scm.ts';
export type { CommitState, CommitStatus, Scm, ScmRepo, ScmToken, ScmUser } from './scm.ts';
export type { ProviderWebhook, ScmProvider } from './provider.ts';

/** The part of the server's configuration the providers read. */
export type ProviderSettings = Pick<ServerConfig, 'github' | 'bitbucket'> & Partial<Pick<ServerConfig, 'githubAllowSha1'>>;

export type ProviderFactory = (settings: ProviderSettings) => ScmProvider;

/** The providers Harrier ships, in the order sign-in offers them. */
export const PROVIDER_FACTORIES: readonly ProviderFactory[] = [
  (s) => new GithubProvider(s.github, { allowSha1: s.githubAllowSha1 }),
  (s) => new BitbucketProvider(s.bitbucket),
];

export class ProviderRegistry {
  private readonly byId = new Map<string, ScmProvider>();

  constructor(providers: readonly ScmProvider[]) {
    for (const p of providers) {
      if (this.byId.has(p.provider)) throw new Error(`two providers are registered as "${p.provider}"; each needs an id of its own`);
      this.byId.set(p.provider, p);
    }
  }

  static fromSettings(settings: ProviderSettings, factories: readonly ProviderFactory[] = PROVIDER_FACTORIES): ProviderRegistry {
    return new ProviderRegistry(factories.map((create) => create(settings)));
  }

  /** Every provider, in the order sign-in offers them. */
  list(): ScmProvider[] {
    return [...this.byId.values()];
  }

  /** The provider with this id, if Harrier has one (a path or a query names it). */
  find(id: string): ScmProvider | undefined {
    return this.byId.get(id);
  }

  /** The provider a stored user or repository names; one Harrier no longer has is a server fault, not the caller's. */
  get(id: string): ScmProvider {
    const provider = this.byId.get(id);
    if (!provider) throw new Error(`no provider "${id}" is registered (Harrier has ${this.ids().join(', ')}); the row naming it was written by a server that had one`);
    return provider;
  }

  /** How people call the provider ("GitHub"); the id itself for one this server does not have. */
  nameOf(id: string): string {
    return this.byId.get(id)?.name ?? id;
  }

  ids(): Provider[] {
    return [...this.byId.keys()] as Provider[];
  }

  /** The provider whose webhook sent the delivery, told by its event header; a 400 HookError when none is. */
  forDelivery(headers: HookHeaders): ScmProvider {
    for (const p of this.byId.values()) if (p.webhook.recognizes(headers)) return p;
    const expected = this.list().map((p) => `${p.webhook.eventHeader} (${p.name})`);
    throw new HookError(`the delivery names no event: expected an ${expected.join(' or ')} header`);
  }

  /** Origins any provider serves avatars from, for the Content-Security-Policy. */
  imageSources(): string[] {
    return [...new Set(this.list().flatMap((p) => p.imageSources))];
  }
}

export function createProviders(settings: ProviderSettings): ProviderRegistry {
  return ProviderRegistry.fromSettings(settings);
}

let defaults: ProviderSettings | undefined;

/**
 * The shipped providers on their public hosts with no OAuth app, for code that reads
 * deliveries without a server (the webhook front door's helpers, test fakes).
 */
export function builtInProviders(overrides: Partial<ProviderSettings> = {}): ProviderRegistry {
  defaults ??= loadServerConfig({});
  return createProviders({ ...defaults, ...overrides });
}
