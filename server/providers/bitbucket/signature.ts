// Bitbucket Cloud's webhook signatures: X-Hub-Signature: sha256=<hex HMAC of the body>.
import { header, hmacMatches, signatureMismatch, type HookHeaders } from '../hook-delivery.ts';

/** Why a Bitbucket delivery's signature does not prove it was sent with `secret`; undefined when it does. */
export function bitbucketSignatureProblem(headers: HookHeaders, body: Buffer | Uint8Array, secret: string, repo: string): string | undefined {
  if (!header(headers, 'X-Hub-Signature')) {
    return `the Bitbucket delivery for ${repo} carries no X-Hub-Signature: its webhook has no secret, and Harrier refuses unsigned deliveries; re-activate the repository so Harrier recreates the hook with a secret`;
  }
  return verifyBitbucketSignature(headers, body, secret) ? undefined : signatureMismatch(repo);
}

/**
 * Sent only when the hook has a secret. Every hook Harrier creates has one; a delivery
 * without it is refused.
 */
export function verifyBitbucketSignature(headers: HookHeaders, body: Buffer | Uint8Array, secret: string): boolean {
  if (!secret) return false;
  const signature = header(headers, 'X-Hub-Signature');
  return signature ? hmacMatches('sha256', signature, body, secret) : false;
}
