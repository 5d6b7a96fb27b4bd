// The webhook edge's front door for the providers Harrier ships, for code without a
// server's registry (test fakes; the server's route asks ctx.providers the same way).
// The HTTP layer hands over headers and the raw body (bytes, not parsed JSON) and calls,
// in this order:
//
//   const id = identifyHookRepo(headers, body);        // which provider and repository (400 on garbage)
//   const secret = <look up id.repo (uid, else slug) in the database>;
//   const problem = await signatureProblem(id.provider, headers, body, secret, opts); if (problem) -> 401 problem
//   const result = parseHook(headers, body);           // { kind: 'hook', hook } | { kind: 'ignored', reason }
//
// HookError carries the HTTP status for a delivery that cannot be used.
import type { Provider } from '../../core/domain.ts';
import type { HookHeaders, HookIdentity, HookResult } from './hook-delivery.ts';
import { builtInProviders } from './registry.ts';
import { builtInWebhook, type SignatureOptions } from './verify-signature.ts';

export { HookError, sameCommit, type HookHeaders, type HookIdentity, type HookPrivacy, type HookResult } from './hook-delivery.ts';
export { signatureProblem, type SignatureOptions } from './verify-signature.ts';

/** The provider whose event header the delivery carries. */
export function detectProvider(headers: HookHeaders): Provider {
  return builtInProviders().forDelivery(headers).provider;
}

export function identifyHookRepo(headers: HookHeaders, body: Buffer | Uint8Array): HookIdentity {
  return builtInProviders().forDelivery(headers).webhook.identify(headers, body);
}

/** Whether the delivery carries a valid signature made with `secret`; timing-safe. */
export async function verifyHookSignature(provider: Provider, headers: HookHeaders, body: Buffer | Uint8Array, secret: string, opts: SignatureOptions = {}): Promise<boolean> {
  if (!secret || body.length === 0) return false;
  return (await builtInWebhook(provider, opts).signatureProblem(headers, body, secret, 'the repository')) === undefined;
}

export function parseHook(headers: HookHeaders, body: Buffer | Uint8Array): HookResult {
  return builtInProviders().forDelivery(headers).webhook.parse(headers, body);
}
