// A private registry for pull tests: the Docker Registry HTTP API v2 on 127.0.0.1 (which
// the engine may reach over plain HTTP), with basic auth, serving one image exported from
// the engine under any repository name. Nothing can be pulled from the internet here.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

const MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';

interface Blob {
  digest: string;
  body: Buffer;
}

function blob(body: Buffer): Blob {
  return { digest: `sha256:${crypto.createHash('sha256').update(body).digest('hex')}`, body };
}

/** The image as a v2 manifest and its blobs: `docker save` writes its config and layer tars, gzip makes them pullable. */
function exportImage(image: string): { manifest: Blob; blobs: Map<string, Buffer> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-registry-'));
  try {
    execFileSync('sh', ['-c', 'docker save "$1" | tar -x -C "$2"', 'sh', image, dir], { stdio: ['ignore', 'ignore', 'inherit'] });
    const [saved] = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { Config: string; Layers: string[] }[];
    const config = blob(fs.readFileSync(path.join(dir, saved.Config)));
    const layers = saved.Layers.map((layer) => blob(zlib.gzipSync(fs.readFileSync(path.join(dir, layer)))));
    const manifest = blob(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MANIFEST_TYPE,
          config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.body.length, digest: config.digest },
          layers: layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: l.body.length, digest: l.digest })),
        }),
      ),
    );
    return { manifest, blobs: new Map([config, ...layers].map((b) => [b.digest, b.body])) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface RegistryStandIn {
  /** host:port, the registry part of an image reference. */
  host: string;
  /** Requests refused for want of the right login. */
  refused: number;
  close(): Promise<void>;
}

export async function startRegistry(options: { image: string; username: string; password: string }): Promise<RegistryStandIn> {
  const { manifest, blobs } = exportImage(options.image);
  const login = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  const state = { refused: 0 };
  const server = http.createServer((req, res) => {
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    if (req.headers.authorization !== login) {
      state.refused++;
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="harrier-test-registry"', 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    const url = new URL(req.url ?? '/', 'http://registry');
    const send = (type: string, body: Buffer, headers: Record<string, string> = {}) => {
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (url.pathname === '/v2/') return send('application/json', Buffer.from('{}'));
    const manifestPath = /^\/v2\/.+\/manifests\/[^/]+$/.test(url.pathname);
    if (manifestPath) return send(MANIFEST_TYPE, manifest.body, { 'Docker-Content-Digest': manifest.digest });
    const blobMatch = /^\/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    const found = blobMatch && blobs.get(blobMatch[1]);
    if (found) return send('application/octet-stream', found, { 'Docker-Content-Digest': blobMatch[1] });
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'NOT_FOUND', message: `${url.pathname} is not here` }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    get refused() {
      return state.refused;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
