// The plumbing both provider stand-ins share: a node:http server on 127.0.0.1 with a
// small path router, a log of every request, lists a test can await, and a fallback
// that answers from go-scm's recorded fixtures (index.json: method + path -> file).
import { createHash } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { corpusExists, readCorpusBytes, readCorpusJson } from './corpus.ts';
import type { CommitInfo } from './local-git-repo.ts';

export interface FakeRequest {
  method: string;
  /** Path without the query, as sent (still percent-encoded). */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Decoded values of the route's :name and *name parts. */
  params: Record<string, string>;
}

export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string or Buffer as is. */
  body?: unknown;
}

/** Returning undefined passes the request on to the next matching route. */
export type FakeHandler = (req: FakeRequest) => FakeResponse | undefined | Promise<FakeResponse | undefined>;

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  authorization: string;
  body: string;
  status: number;
  at: number;
}

interface Route {
  method: string;
  /** null matches every path. */
  parts: string[] | null;
  handler: FakeHandler;
}

export class Router {
  private readonly routes: Route[] = [];

  /** pattern: "/api/v3/repos/:owner/:repo/contents/*path"; ":x" is one segment, "*x" the rest. */
  on(method: string, pattern: string, handler: FakeHandler): this {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  /** A handler tried for every request that reaches it, whatever the method and path. */
  any(handler: FakeHandler): this {
    this.routes.push({ method: '*', parts: null, handler });
    return this;
  }

  async handle(req: Omit<FakeRequest, 'params'>): Promise<FakeResponse | undefined> {
    const segments = req.path.split('/').filter(Boolean);
    for (const route of this.routes) {
      if (route.method !== '*' && route.method !== req.method) continue;
      const params = route.parts ? matchRoute(route.parts, segments) : {};
      if (!params) continue;
      const res = await route.handler({ ...req, params });
      if (res) return res;
    }
    return undefined;
  }
}

function matchRoute(parts: string[], segments: string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part.startsWith('*')) {
      if (i >= segments.length) return null;
      params[part.slice(1)] = segments.slice(i).map(decode).join('/');
      return params;
    }
    if (i >= segments.length) return null;
    if (part.startsWith(':')) params[part.slice(1)] = decode(segments[i]);
    else if (part !== segments[i]) return null;
  }
  return parts.length === segments.length ? params : null;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** A list that records as it goes and lets a test wait for an entry it expects. */
export class WatchedList<T> {
  readonly items: T[] = [];
  private waiters: { pred: (item: T) => boolean; resolve: (item: T) => void }[] = [];

  constructor(private readonly what: string) {}

  push(item: T): void {
    this.items.push(item);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(item)) return true;
      w.resolve(item);
      return false;
    });
  }

  /** The first entry, already recorded or still to come, that matches; rejects after timeoutMs. */
  waitFor(pred: (item: T) => boolean = () => true, timeoutMs = 30_000): Promise<T> {
    const found = this.items.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${this.what} matched within ${timeoutMs} ms; recorded so far: ${JSON.stringify(this.items, null, 1).slice(0, 2000)}`));
      }, timeoutMs);
      const waiter = {
        pred,
        resolve: (item: T) => {
          clearTimeout(timer);
          resolve(item);
        },
      };
      this.waiters.push(waiter);
    });
  }

  clear(): void {
    this.items.length = 0;
  }
}

export interface FakeServer {
  url: string;
  requests: WatchedList<RecordedRequest>;
  close(): Promise<void>;
}

/** Starts the server; `notFound` answers what no route and no fixture did. */
export async function startFakeServer(router: Router, notFound: (req: FakeRequest) => FakeResponse): Promise<FakeServer> {
  const requests = new WatchedList<RecordedRequest>('request');
  const server = http.createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (c: Buffer) => chunks.push(c));
    incoming.on('end', () => {
      const url = new URL(incoming.url ?? '/', 'http://fake.invalid');
      const req = { method: incoming.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: incoming.headers, body: Buffer.concat(chunks) };
      router
        .handle(req)
        .then((res) => res ?? notFound({ ...req, params: {} }))
        .catch((err: unknown): FakeResponse => ({ status: 500, body: { message: `fake server failed: ${err instanceof Error ? err.stack : String(err)}` } }))
        .then((res) => {
          requests.push({
            method: req.method,
            path: req.path,
            query: url.search,
            authorization: incoming.headers.authorization ?? '',
            body: req.body.toString('utf8').slice(0, 4000),
            status: res.status,
            at: Date.now(),
          });
          send(outgoing, res);
        });
    });
  });
  // Providers keep idle connections open for a minute or more; Node's 5 s default would close one
  // just as a client on a busy machine reuses it, failing a call that never reached the fake.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function send(out: http.ServerResponse, res: FakeResponse): void {
  const headers = { ...res.headers };
  let body: Buffer | undefined;
  if (res.body === undefined || res.body === null) body = undefined;
  else if (Buffer.isBuffer(res.body)) body = res.body;
  else if (typeof res.body === 'string') body = Buffer.from(res.body);
  else {
    body = Buffer.from(JSON.stringify(res.body));
    headers['Content-Type'] ??= 'application/json; charset=utf-8';
  }
  out.writeHead(res.status, headers);
  out.end(body);
}

export function json(status: number, body: unknown, headers?: Record<string, string>): FakeResponse {
  return { status, body, headers };
}

export function parseJsonBody(req: FakeRequest): Record<string, any> | undefined {
  try {
    const value = JSON.parse(req.body.toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Form fields, or JSON fields when the client sent JSON (GitHub's token endpoint takes either). */
export function parseFormBody(req: FakeRequest): URLSearchParams {
  const type = String(req.headers['content-type'] ?? '');
  if (type.includes('application/json')) {
    const body = parseJsonBody(req) ?? {};
    return new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, String(v)]));
  }
  return new URLSearchParams(req.body.toString('utf8'));
}

/** The token of an "Authorization: Bearer x" or "Authorization: token x" header. */
export function bearerToken(req: FakeRequest): string | undefined {
  const m = /^(?:bearer|token)\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
  return m?.[1].trim();
}

export function basicCredentials(req: FakeRequest): { user: string; password: string } | undefined {
  const m = /^basic\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

interface IndexedMock {
  method?: string;
  path?: string;
  status?: string;
  response_file?: string | null;
  response_body?: string;
}

/**
 * Answers from go-scm's recorded mocks: the first mock with the same method and path
 * (case-insensitive, query ignored) gives the status and the body. `prefix` is where
 * the fake mounts the provider's API (e.g. /api/v3).
 */
export function fixtureFallback(provider: 'github' | 'bitbucket', prefix: string): FakeHandler {
  const dir = `go-scm-api/${provider}`;
  const index = readCorpusJson<{ mocks: IndexedMock[] }[]>(`${dir}/index.json`);
  const byKey = new Map<string, IndexedMock>();
  for (const test of index) {
    for (const mock of test.mocks) {
      if (!mock.method || !mock.path) continue;
      const key = `${mock.method} ${mock.path.toLowerCase()}`;
      if (!byKey.has(key)) byKey.set(key, mock);
    }
  }
  return (req) => {
    if (!req.path.startsWith(prefix)) return undefined;
    const rest = decode(req.path.slice(prefix.length)).toLowerCase();
    const mock = byKey.get(`${req.method} ${rest}`);
    if (!mock) return undefined;
    const status = Number(mock.status ?? 200);
    if (mock.response_file) {
      const file = `${dir}/${path.basename(mock.response_file)}`;
      if (!corpusExists(file)) return undefined;
      const type = file.endsWith('.json') ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8';
      return { status, headers: { 'Content-Type': type }, body: readCorpusBytes(file) };
    }
    if (mock.response_body !== undefined) {
      // go-scm keeps these as Go raw strings, backticks included.
      const body = mock.response_body.replace(/^`|`$/g, '');
      return { status, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body };
    }
    return { status };
  };
}

/** A stand-in commit hash for a repository made of in-memory files: it changes when the files do. */
export function inMemoryHead(files: Map<string, string>): string {
  return createHash('sha1').update(JSON.stringify([...files].sort(([a], [b]) => (a < b ? -1 : 1)))).digest('hex');
}

/**
 * The commit a repository made of in-memory files answers for `ref`: its head for its default
 * branch, or the commit a full hash names (files keyed "sha:path" belong to such commits), made
 * by `author`; undefined for any other name.
 */
export function inMemoryCommit(files: Map<string, string>, defaultBranch: string, ref: string, author: { name: string; email: string }): CommitInfo | undefined {
  const sha = /^[0-9a-f]{40}$/.test(ref) ? ref : ref === defaultBranch ? inMemoryHead(files) : undefined;
  if (!sha) return undefined;
  return { sha, message: 'Files the test set\n', authorName: author.name, authorEmail: author.email, timestamp: '2026-01-01T00:00:00Z', parent: '' };
}
