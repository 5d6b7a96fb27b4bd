// Checks that a delivery was signed with the repository's hook secret, over the exact
// bytes received: re-serialised JSON would not hash the same.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhooks } from '@octokit/webhooks';
import { header, type HookHeaders } from './hook-delivery.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * GitHub: X-Hub-Signature-256 (sha256=HMAC of the body), checked by @octokit/webhooks.
 * Octokit hashes a string, so the body is decoded strictly: every valid UTF-8 body
 * decodes to a string that encodes back to the same bytes (BOM kept), and a body that
 * is not UTF-8 is refused rather than altered. Older GitHub Enterprise servers send
 * only the SHA-1 X-Hub-Signature; it is accepted when the SHA-256 header is absent.
 */
export async function verifyGithubSignature(headers: HookHeaders, body: Buffer | Uint8Array, secret: string): Promise<boolean> {
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
  return sha1 ? hmacMatches('sha1', sha1, body, secret) : false;
}

/** Bitbucket Cloud: X-Hub-Signature: sha256=<hex HMAC of the body>, sent when the hook has a secret. */
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
