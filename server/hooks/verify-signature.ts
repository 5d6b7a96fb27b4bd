// Checks that a delivery was signed with the repository's hook secret, over the exact
// bytes received: re-serialised JSON would not hash the same. An unsigned delivery is
// never accepted: anyone who knows the hook's URL could otherwise start builds.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhooks } from '@octokit/webhooks';
import type { Provider } from '../../core/domain.ts';
import { header, type HookHeaders } from './hook-delivery.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

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
export async function signatureProblem(
  provider: Provider,
  headers: HookHeaders,
  body: Buffer | Uint8Array,
  secret: string,
  opts: SignatureOptions = {},
): Promise<string | undefined> {
  const repo = opts.repo ?? 'the repository';
  if (!secret) return `Harrier holds no webhook secret for ${repo}, so it cannot check the delivery's signature; re-activate the repository to recreate its webhook with one`;
  const mismatch = `the delivery's signature does not match ${repo}'s webhook secret; re-activate the repository to reset the hook`;
  if (body.length === 0) return mismatch;
  if (provider === 'bitbucket') {
    if (!header(headers, 'X-Hub-Signature')) {
      return `the Bitbucket delivery for ${repo} carries no X-Hub-Signature: its webhook has no secret, and Harrier refuses unsigned deliveries; re-activate the repository so Harrier recreates the hook with a secret`;
    }
    return verifyBitbucketSignature(headers, body, secret) ? undefined : mismatch;
  }
  if (!header(headers, 'X-Hub-Signature-256')) {
    if (!header(headers, 'X-Hub-Signature')) {
      return `the delivery for ${repo} carries no X-Hub-Signature-256 header; a webhook with a secret always sends one (re-activate the repository to reset the hook)`;
    }
    if (!opts.allowSha1) {
      return `the delivery for ${repo} is signed with SHA-1 only (X-Hub-Signature, no X-Hub-Signature-256); set HARRIER_GITHUB_ALLOW_SHA1=true to accept SHA-1 signatures from an old GitHub Enterprise server that sends no other`;
    }
  }
  return (await verifyGithubSignature(headers, body, secret, opts)) ? undefined : mismatch;
}

/**
 * GitHub: X-Hub-Signature-256 (sha256=HMAC of the body), checked by @octokit/webhooks.
 * Octokit hashes a string, so the body is decoded strictly: every valid UTF-8 body
 * decodes to a string that encodes back to the same bytes (BOM kept), and a body that
 * is not UTF-8 is refused rather than altered. Older GitHub Enterprise servers send
 * only the SHA-1 X-Hub-Signature; it is accepted, when the SHA-256 header is absent,
 * only with opts.allowSha1 (SHA-1 HMACs are not broken, but GitHub itself moved on).
 */
export async function verifyGithubSignature(headers: HookHeaders, body: Buffer | Uint8Array, secret: string, opts: SignatureOptions = {}): Promise<boolean> {
  if (!secret || body.length === 0) return false;
  const sha256 = header(headers, 'X-Hub-Signature-256');
  if (sha256) {
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      return false;
    }
    return new Webhooks({ secret }).verify(text, sha256);
  }
  const sha1 = header(headers, 'X-Hub-Signature');
  return opts.allowSha1 && sha1 ? hmacMatches('sha1', sha1, body, secret) : false;
}

/**
 * Bitbucket Cloud: X-Hub-Signature: sha256=<hex HMAC of the body>, sent only when the hook
 * has a secret. Every hook Harrier creates has one; a delivery without it is refused.
 */
export function verifyBitbucketSignature(headers: HookHeaders, body: Buffer | Uint8Array, secret: string): boolean {
  if (!secret) return false;
  const signature = header(headers, 'X-Hub-Signature');
  return signature ? hmacMatches('sha256', signature, body, secret) : false;
}

function hmacMatches(algorithm: 'sha1' | 'sha256', signature: string, body: Buffer | Uint8Array, secret: string): boolean {
  const prefix = `${algorithm}=`;
  if (!signature.toLowerCase().startsWith(prefix)) return false;
  const given = Buffer.from(signature.slice(prefix.length).toLowerCase(), 'utf8');
  const expected = Buffer.from(createHmac(algorithm, secret).update(body).digest('hex'), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
