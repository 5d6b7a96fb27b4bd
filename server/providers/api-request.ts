// One place that talks HTTP to a provider: auth header, timeout, and turning an
// error answer into a ScmError that says which call failed and what the provider said.
import type { Provider } from '../../core/domain.ts';
import { ScmError } from './scm.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ApiCall {
  method?: HttpMethod;
  url: string;
  /** OAuth access token, sent as a Bearer credential. */
  token?: string;
  /** Basic credentials (OAuth client id and secret on token endpoints). */
  basic?: { user: string; password: string };
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  accept?: string;
  headers?: Record<string, string>;
}

/** Pulls the human-readable message out of a provider's error body. */
export type ErrorMessageReader = (body: unknown) => string | undefined;

const TIMEOUT_MS = 30_000;

/**
 * How a call fails when it went out on a pooled keep-alive connection that the provider had
 * closed an instant before: the call never reached it, so a GET may be sent again.
 */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

function onStaleConnection(err: unknown): boolean {
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === 'string' && STALE_CONNECTION_CODES.has(cause.code);
}

export class ApiRequester {
  constructor(
    readonly provider: Provider,
    /** How the provider is named in error messages, e.g. "GitHub". */
    private readonly label: string,
    private readonly readError: ErrorMessageReader,
    private readonly defaultHeaders: Record<string, string> = {},
  ) {}

  /** Sends the call; any HTTP status is returned, only an unreachable provider throws. */
  async send(call: ApiCall): Promise<Response> {
    const method = call.method ?? 'GET';
    const headers: Record<string, string> = { 'User-Agent': 'Harrier', ...this.defaultHeaders, ...call.headers };
    if (call.accept) headers.Accept = call.accept;
    if (call.token) headers.Authorization = `Bearer ${call.token}`;
    if (call.basic) {
      headers.Authorization = `Basic ${Buffer.from(`${call.basic.user}:${call.basic.password}`).toString('base64')}`;
    }
    let body: string | undefined;
    if (call.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(call.json);
    } else if (call.form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(call.form).toString();
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetch(call.url, { method, headers, body, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'follow' });
      } catch (err) {
        // Only a GET is sent again: another method might have been carried out before the reset.
        if (method === 'GET' && attempt === 1 && onStaleConnection(err)) continue;
        const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
        throw new ScmError(
          `${this.label} did not answer ${method} ${describeUrl(call.url)}: ${reason}; check that the ${this.label} URL is right and reachable from the server`,
          502,
          this.provider,
        );
      }
    }
  }

  /** Sends the call and parses a JSON answer; a non-2xx answer throws a ScmError. */
  async json<T>(call: ApiCall): Promise<{ data: T; res: Response }> {
    const res = await this.send(call);
    if (!res.ok) throw await this.failure(res, call);
    const text = await res.text();
    try {
      return { data: (text ? JSON.parse(text) : null) as T, res };
    } catch {
      throw new ScmError(
        `${this.label} answered ${call.method ?? 'GET'} ${describeUrl(call.url)} with a body that is not JSON: ${text.slice(0, 200)}`,
        502,
        this.provider,
      );
    }
  }

  /** Builds the ScmError for a non-2xx answer, carrying the provider's own message. */
  async failure(res: Response, call: ApiCall): Promise<ScmError> {
    const text = await res.text().catch(() => '');
    let message: string | undefined;
    try {
      message = this.readError(JSON.parse(text));
    } catch {
      message = text.trim().slice(0, 300) || undefined;
    }
    const what = `${this.label} answered ${call.method ?? 'GET'} ${describeUrl(call.url)} with ${res.status}`;
    return new ScmError(message ? `${what}: ${message}` : what, res.status, this.provider);
  }
}

/** The URL without its query, so tokens or codes in a query never reach a log. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return url;
  }
}

/** Splits "owner/name" (Bitbucket: "workspace/slug"); anything else is a caller's mistake. */
export function splitSlug(slug: string, provider: Provider): [string, string] {
  const i = slug.indexOf('/');
  if (i <= 0 || i === slug.length - 1 || slug.indexOf('/', i + 1) !== -1) {
    throw new ScmError(`"${slug}" is not a repository slug; expected "owner/name"`, 400, provider);
  }
  return [slug.slice(0, i), slug.slice(i + 1)];
}

/** Encodes each segment of a file path, keeping the slashes. */
export function encodePath(path: string): string {
  return path
    .replace(/^\/+/, '')
    .split('/')
    .map((part) => encodeURIComponent(part))
    .join('/');
}

/** Unix seconds from now plus expires_in; 0 when the token does not expire. */
export function expiryFrom(expiresIn: unknown): number {
  const seconds = Number(expiresIn);
  return Number.isFinite(seconds) && seconds > 0 ? Math.floor(Date.now() / 1000) + seconds : 0;
}

/** git's netrc matches on the host name alone, so the port and userinfo are dropped. */
export function netrcMachine(cloneUrl: string): string {
  try {
    return new URL(cloneUrl).hostname;
  } catch {
    // scp-like SSH syntax (git@host:owner/repo.git) is the only other form a clone URL takes.
    const m = /^(?:[^@/]+@)?([^:/]+):/.exec(cloneUrl);
    return m ? m[1] : '';
  }
}
