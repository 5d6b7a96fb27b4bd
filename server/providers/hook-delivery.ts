// What every provider's hook parser shares: the result shape, the error the HTTP
// layer turns into a status code, header lookup, and strict body decoding.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import type { Hook, Provider } from '../../core/domain.ts';

/** Request headers as node:http or express give them, or as a test writes them (any case, numbers allowed). */
export type HookHeaders = Record<string, string | string[] | number | undefined>;

export type HookResult =
  | {
      kind: 'hook';
      hook: Hook;
      /**
       * True when the provider also sends this event for edits that leave the code as it was
       * (Bitbucket's pullrequest:updated fires for a new title or description). The server then
       * builds only if hook.after differs from the head of the last build of pull request
       * hook.pullRequest; compare the two with sameCommit(), since Bitbucket sends 12-character
       * hashes. Parsing keeps no state between deliveries, so this check is the server's.
       */
      requireNewHead: boolean;
    }
  | { kind: 'ignored'; reason: string };

/** The repository a delivery is about, read before its signature is checked so the server can find the secret. */
export interface HookIdentity {
  provider: Provider;
  /** The provider's own event name (X-GitHub-Event, X-Event-Key). */
  event: string;
  deliveryId: string;
  /**
   * uid is the provider's id (GitHub's numeric id, Bitbucket's {uuid}) and matches ScmRepo.uid;
   * Bitbucket payloads occasionally lack it, so fall back to the slug when it is empty.
   * null when the delivery names no repository (a ping of an organization hook):
   * there is no secret to check it with, and parseHook ignores it.
   */
  repo: { uid: string; slug: string; privacy?: HookPrivacy } | null;
}

/**
 * Whether the provider says the repository is private, as every delivery that names a
 * repository carries it; absent when the payload does not say. Read before verification,
 * so the server applies it only to a delivery whose signature it checked.
 */
export interface HookPrivacy {
  private: boolean;
  /** GitHub's own visibility (internal is private to an enterprise); else private or public. */
  visibility: 'public' | 'private' | 'internal';
}

/** A delivery Harrier cannot use; `status` is the HTTP status to answer with. */
export class HookError extends Error {
  constructor(
    message: string,
    readonly status: number = 400,
  ) {
    super(message);
    this.name = 'HookError';
  }
}

export function header(headers: HookHeaders, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    return first === undefined ? undefined : String(first).trim();
  }
  return undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// A delivery's body is read by identify(), then by parse(), and stored as text: decoded
// and parsed once per body, which was a tenth of what taking in a delivery cost. Nothing
// changes a parsed payload: the schemas that read it build their own objects.
const decodedBodies = new WeakMap<Buffer | Uint8Array, string>();
const parsedBodies = new WeakMap<Buffer | Uint8Array, Record<string, unknown>>();

/** The body as text, refusing bytes that are not UTF-8 rather than guessing at them. */
export function decodeBody(body: Buffer | Uint8Array, label: string): string {
  const known = decodedBodies.get(body);
  if (known !== undefined) return known;
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new HookError(`${label} delivery body is not valid UTF-8 JSON`);
  }
  decodedBodies.set(body, text);
  return text;
}

/** The body as a JSON object, or a 400 saying what is wrong with it. */
export function parseBody(body: Buffer | Uint8Array, label: string): Record<string, unknown> {
  const known = parsedBodies.get(body);
  if (known) return known;
  const text = decodeBody(body, label);
  if (!text.trim()) throw new HookError(`${label} delivery has an empty body; expected a JSON object`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HookError(`${label} delivery body is not JSON (${err instanceof Error ? err.message : String(err)}); configure the webhook with content type application/json`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new HookError(`${label} delivery body is JSON but not an object`);
  }
  parsedBodies.set(body, value as Record<string, unknown>);
  return value as Record<string, unknown>;
}

/** Validates a payload against the fields Harrier reads; the 400 names the first missing or wrong field. */
export function readPayload<S extends z.ZodType>(schema: S, payload: unknown, what: string): z.output<S> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue.path.join('.') || '(body)';
  throw new HookError(`${what} is missing or has a malformed ${path}: ${issue.message}`);
}

export function sha256Hex(body: Buffer | Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

/** Unix seconds of an ISO 8601 date; now when the provider sent none. */
export function unixSeconds(iso: string | null | undefined): number {
  const ms = iso ? Date.parse(iso) : NaN;
  return Math.floor((Number.isFinite(ms) ? ms : Date.now()) / 1000);
}

/**
 * Whether two commit hashes name the same commit, when either may be abbreviated
 * (Bitbucket's pull request deliveries carry 12 characters): the shorter must be a prefix of the longer.
 */
export function sameCommit(a: string, b: string): boolean {
  const x = a.trim().toLowerCase();
  const y = b.trim().toLowerCase();
  if (x.length < 7 || y.length < 7) return x === y;
  return x.length <= y.length ? y.startsWith(x) : x.startsWith(y);
}

/** The 401 message for a signature that does not match the repository's hook secret. */
export function signatureMismatch(repo: string): string {
  return `the delivery's signature does not match ${repo}'s webhook secret; re-activate the repository to reset the hook`;
}

/** Whether `signature` ("sha256=<hex>") is the HMAC of the body with `secret`; timing-safe. */
export function hmacMatches(algorithm: 'sha1' | 'sha256', signature: string, body: Buffer | Uint8Array, secret: string): boolean {
  const prefix = `${algorithm}=`;
  if (!signature.toLowerCase().startsWith(prefix)) return false;
  const given = Buffer.from(signature.slice(prefix.length).toLowerCase(), 'utf8');
  const expected = Buffer.from(createHmac(algorithm, secret).update(body).digest('hex'), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
