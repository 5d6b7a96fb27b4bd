// The webhook edge's front door. The HTTP layer hands over headers and the raw body
// (bytes, not parsed JSON) and calls, in this order:
//
//   const id = identifyHookRepo(headers, body);        // which provider and repository (400 on garbage)
//   const secret = <look up id.repo (uid, else slug) in the database>;
//   const problem = await signatureProblem(id.provider, headers, body, secret, opts); if (problem) -> 401 problem
//   const result = parseHook(headers, body);           // { kind: 'hook', hook } | { kind: 'ignored', reason }
//
// HookError carries the HTTP status for a delivery that cannot be used.
import type { Provider } from '../../core/domain.ts';
import { identifyBitbucketRepo, parseBitbucketHook } from './bitbucket-hook.ts';
import { identifyGithubRepo, parseGithubHook } from './github-hook.ts';
import { header, HookError, type HookHeaders, type HookIdentity, type HookResult } from './hook-delivery.ts';
import { verifyBitbucketSignature, verifyGithubSignature, type SignatureOptions } from './verify-signature.ts';

export { sameCommit } from './bitbucket-hook.ts';
export { HookError, type HookHeaders, type HookIdentity, type HookPrivacy, type HookResult } from './hook-delivery.ts';
export { signatureProblem, type SignatureOptions } from './verify-signature.ts';

/** GitHub names its event in X-GitHub-Event, Bitbucket Cloud in X-Event-Key. */
export function detectProvider(headers: HookHeaders): Provider {
  if (header(headers, 'X-GitHub-Event')) return 'github';
  if (header(headers, 'X-Event-Key')) return 'bitbucket';
  throw new HookError('the delivery names no event: expected an X-GitHub-Event (GitHub) or X-Event-Key (Bitbucket) header');
}

export function identifyHookRepo(headers: HookHeaders, body: Buffer | Uint8Array): HookIdentity {
  return detectProvider(headers) === 'github' ? identifyGithubRepo(headers, body) : identifyBitbucketRepo(headers, body);
}

/** Whether the delivery carries a valid signature made with `secret`; timing-safe. */
export async function verifyHookSignature(provider: Provider, headers: HookHeaders, body: Buffer | Uint8Array, secret: string, opts: SignatureOptions = {}): Promise<boolean> {
  return provider === 'github' ? verifyGithubSignature(headers, body, secret, opts) : verifyBitbucketSignature(headers, body, secret);
}

export function parseHook(headers: HookHeaders, body: Buffer | Uint8Array): HookResult {
  return detectProvider(headers) === 'github' ? parseGithubHook(headers, body) : parseBitbucketHook(headers, body);
}
