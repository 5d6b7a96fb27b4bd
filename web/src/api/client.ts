// Every call to Harrier's REST API goes through api(): JSON in and out, the session's
// CSRF token on state-changing calls, and errors as ApiError carrying the server's message.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const CSRF_HEADER = 'X-CSRF-Token';
let csrfToken = '';
let onUnauthorized: () => void = () => {};

/** Called when a call answers 401: the session ended, so the app shows the sign-in page. */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

async function ensureCsrf(): Promise<string> {
  if (!csrfToken) {
    const res = await fetch('/api/user/csrf', { headers: { Accept: 'application/json' } });
    if (res.ok) csrfToken = ((await res.json()) as { token: string }).token;
  }
  return csrfToken;
}

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
}

export async function api<T>(path: string, opts: CallOptions = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET') headers[CSRF_HEADER] = await ensureCsrf();
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: opts.signal,
  });
  const token = res.headers.get(CSRF_HEADER);
  if (token) csrfToken = token;
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  if (!res.ok) {
    if (res.status === 401 && path !== '/api/user') onUnauthorized();
    throw new ApiError(res.status, errorMessage(res, body));
  }
  return body as T;
}

function errorMessage(res: Response, body: unknown): string {
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') {
    return (body as { message: string }).message;
  }
  if (typeof body === 'string' && body && !body.trimStart().startsWith('<')) return body.slice(0, 500);
  return `${res.status} ${res.statusText || 'error'} from ${new URL(res.url, location.href).pathname}`;
}

/** Ends the session on the server; the cookie goes with it. */
export async function signOut(): Promise<void> {
  await fetch('/logout', { method: 'POST', headers: { [CSRF_HEADER]: await ensureCsrf() } });
  csrfToken = '';
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** owner/name as it goes into a path: each part encoded, the slash kept. */
export function repoPath(slug: string): string {
  return slug.split('/').map(encodeURIComponent).join('/');
}
