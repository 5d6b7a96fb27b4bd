// The command line's one way to the server: Drone's REST API over fetch, with a personal
// token as `Authorization: Bearer` (token calls need no CSRF token), and Server-Sent Events
// for live logs. Every failure becomes a ClientError that says what the server said.
import { UsageError } from '../command-io.ts';

/** The server refused the call, or could not be reached; the command ends with EXIT_PROBLEMS. */
export class ClientError extends Error {}

/** Nothing answered at the server's address: worth trying again, unlike a refusal. */
export class UnreachableError extends ClientError {}

export interface Connection {
  /** --server, else HARRIER_SERVER. */
  server?: string;
  /** --token, else HARRIER_TOKEN. */
  token?: string;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface ServerEvent {
  /** `message` unless the server named it (`done`). */
  event: string;
  data: string;
  id?: string;
}

export class HarrierClient {
  constructor(
    readonly server: string,
    private readonly token: string,
  ) {}

  static connect(given: Connection, env: NodeJS.ProcessEnv): HarrierClient {
    const server = (given.server ?? env.HARRIER_SERVER ?? '').trim();
    if (!server) {
      throw new UsageError('no server to talk to: set HARRIER_SERVER to its address (e.g. HARRIER_SERVER=https://ci.example.com) or pass --server');
    }
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new UsageError(`the server address ${JSON.stringify(server)} is not a URL: write it with its scheme, e.g. https://ci.example.com`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new UsageError(`the server address ${server} must start with http:// or https://`);
    }
    const token = (given.token ?? env.HARRIER_TOKEN ?? '').trim();
    if (!token) {
      throw new UsageError(
        `no token: make a personal token on ${url.origin}/account (or POST /api/user/tokens), then set HARRIER_TOKEN to it or pass --token`,
      );
    }
    return new HarrierClient(url.href.replace(/\/+$/, ''), token);
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  async request<T>(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<T> {
    const url = this.url(path, opts.query);
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}`, Accept: 'application/json' };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await this.send(method, url, { headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    const text = await res.text();
    if (!res.ok) throw refusal(method, url, res.status, text);
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ClientError(`${method} ${url.pathname} answered ${res.status} with something that is not JSON; is ${this.server} a Harrier server?`);
    }
  }

  /** The events of a Server-Sent Events stream, until the server ends it or `signal` aborts. */
  async *events(path: string, opts: { query?: Query; lastEventId?: string; signal?: AbortSignal } = {}): AsyncGenerator<ServerEvent> {
    const url = this.url(path, opts.query);
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}`, Accept: 'text/event-stream' };
    if (opts.lastEventId !== undefined) headers['Last-Event-ID'] = opts.lastEventId;
    const res = await this.send('GET', url, { headers, signal: opts.signal });
    if (!res.ok || !res.body) throw refusal('GET', url, res.status, await res.text());
    yield* parseEventStream(res.body);
  }

  private url(path: string, query: Query = {}): URL {
    const url = new URL(`${this.server}${path}`);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  private async send(method: string, url: URL, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, method });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new UnreachableError(
        `cannot reach the Harrier server at ${this.server} (${cause?.code ?? cause?.message ?? (err as Error).message}); ` +
          'check HARRIER_SERVER (or --server) and that the server is running',
      );
    }
  }
}

/** The path of a repository (`owner/name`), each part escaped. */
export function repoPath(slug: string): string {
  return slug.split('/').map(encodeURIComponent).join('/');
}

function refusal(method: string, url: URL, status: number, text: string): ClientError {
  let message = '';
  try {
    message = String((JSON.parse(text) as { message?: unknown }).message ?? '');
  } catch {
    // A proxy's page, or an older server's plain text: show its start.
    message = text.trim().slice(0, 200);
  }
  const hint = status === 404 && message.startsWith('no such endpoint') ? ' (this server does not have this command\'s endpoint yet: upgrade it)' : '';
  return new ClientError(`${message || 'no message'}${hint} (${status} from ${method} ${url.pathname})`);
}

/** Splits a text/event-stream body into its events (the WHATWG rules, minus `retry`). */
export async function* parseEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerEvent> {
  const decoder = new TextDecoder();
  let pending = '';
  let event = { event: '', data: [] as string[], id: undefined as string | undefined };
  for await (const chunk of body) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split(/\r\n|\r|\n/);
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') {
        if (event.data.length) yield { event: event.event || 'message', data: event.data.join('\n'), id: event.id };
        event = { event: '', data: [], id: undefined };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') event.data.push(value);
      else if (field === 'event') event.event = value;
      else if (field === 'id') event.id = value;
    }
  }
}
