// Everything one source-code provider is, behind one surface, as Woodpecker's Forge
// interface holds a forge: sign-in (OAuth), its API (Scm), its webhooks, and what the
// web UI needs to show it. The registry (registry.ts) holds one per provider; nothing
// outside server/providers/ knows which provider it talks to.
import type { HookHeaders, HookIdentity, HookResult } from './hook-delivery.ts';
import type { Scm } from './scm.ts';

/** A provider's webhook deliveries, from raw headers and body to a normalised Hook. */
export interface ProviderWebhook {
  /** The header naming the event, by which a delivery is told to be this provider's (e.g. X-Event-Key). */
  readonly eventHeader: string;
  /** Whether the delivery is this provider's: it carries eventHeader. */
  recognizes(headers: HookHeaders): boolean;
  /** The provider's id of the delivery, the same on its retries; stands in for one when the header is missing. */
  deliveryId(headers: HookHeaders, body: Buffer | Uint8Array): string;
  /** The repository the delivery is about, read before its signature is checked so the server can find the secret. */
  identify(headers: HookHeaders, body: Buffer | Uint8Array): HookIdentity;
  /**
   * Why the delivery's signature does not prove it was sent with `secret`, in words for
   * the 401 answer; undefined when it does. Called with a non-empty secret and body;
   * `repo` is the repository's slug, for the message. Timing-safe.
   */
  signatureProblem(headers: HookHeaders, body: Buffer | Uint8Array, secret: string, repo: string): Promise<string | undefined>;
  /** The Hook to build, or why the delivery builds nothing. */
  parse(headers: HookHeaders, body: Buffer | Uint8Array): HookResult;
}

/**
 * One provider: the Scm surface (sign-in and API) plus what the rest of Harrier must
 * otherwise have asked "which provider?" for. Registered in registry.ts.
 */
export interface ScmProvider extends Scm {
  /** How people call it, in messages and pages: "GitHub". */
  readonly name: string;
  /** Its configuration variables start with this (HARRIER_GITHUB → HARRIER_GITHUB_CLIENT_ID, …_CLIENT_SECRET). */
  readonly envPrefix: string;
  /** The key sign-in's OAuth state cookie is signed with: the OAuth client secret, which only this server knows. */
  readonly stateKey: string;
  readonly webhook: ProviderWebhook;
  /** Origins it serves avatars from, for the Content-Security-Policy's img-src. */
  readonly imageSources: readonly string[];
}
