// GitHub's webhook signatures: X-Hub-Signature-256, or on old GitHub Enterprise servers
// the SHA-1 X-Hub-Signature alone, accepted only when the operator says so.
import { Webhooks } from '@octokit/webhooks';
import { header, hmacMatches, signatureMismatch, type HookHeaders } from '../hook-delivery.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface GithubSignatureOptions {
  /**
   * Accept GitHub's SHA-1 X-Hub-Signature when X-Hub-Signature-256 is absent
   * (HARRIER_GITHUB_ALLOW_SHA1, for old GitHub Enterprise servers). Off by default.
   */
  allowSha1?: boolean;
}

/** Why a GitHub delivery's signature does not prove it was sent with `secret`; undefined when it does. */
export async function githubSignatureProblem(
  headers: HookHeaders,
  body: Buffer | Uint8Array,
  secret: string,
  repo: string,
  opts: GithubSignatureOptions = {},
): Promise<string | undefined> {
  if (!header(headers, 'X-Hub-Signature-256')) {
    if (!header(headers, 'X-Hub-Signature')) {
      return `the delivery for ${repo} carries no X-Hub-Signature-256 header; a webhook with a secret always sends one (re-activate the repository to reset the hook)`;
    }
    if (!opts.allowSha1) {
      return `the delivery for ${repo} is signed with SHA-1 only (X-Hub-Signature, no X-Hub-Signature-256); set HARRIER_GITHUB_ALLOW_SHA1=true to accept SHA-1 signatures from an old GitHub Enterprise server that sends no other`;
    }
  }
  return (await verifyGithubSignature(headers, body, secret, opts)) ? undefined : signatureMismatch(repo);
}

/**
 * GitHub: X-Hub-Signature-256 (sha256=HMAC of the body), checked by @octokit/webhooks.
 * Octokit hashes a string, so the body is decoded strictly: every valid UTF-8 body
 * decodes to a string that encodes back to the same bytes (BOM kept), and a body that
 * is not UTF-8 is refused rather than altered. Older GitHub Enterprise servers send
 * only the SHA-1 X-Hub-Signature; it is accepted, when the SHA-256 header is absent,
 * only with opts.allowSha1 (SHA-1 HMACs are not broken, but GitHub itself moved on).
 */
export async function verifyGithubSignature(headers: HookHeaders, body: Buffer | Uint8Array, secret: string, opts: GithubSignatureOptions = {}): Promise<boolean> {
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
