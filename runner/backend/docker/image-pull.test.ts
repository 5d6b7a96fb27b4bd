import { Readable } from 'node:stream';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { ImageUnavailableError } from '../backend.ts';
import { isLatest, pullImage, pullsFirst } from './image-pull.ts';

function dockerPulling(lines: string[]) {
  const docker = new Docker();
  const calls: { image: string; opts: Record<string, unknown> }[] = [];
  docker.pull = (async (image: string, opts: Record<string, unknown>) => {
    calls.push({ image, opts });
    return Readable.from(lines.map((l) => `${l}\n`));
  }) as unknown as Docker['pull'];
  return { docker, calls };
}

const never = new AbortController().signal;

describe('pull policy', () => {
  it('treats untagged and :latest images as moving and pinned tags or digests as fixed', () => {
    expect(isLatest('alpine')).toBe(true);
    expect(isLatest('alpine:latest')).toBe(true);
    expect(isLatest('localhost:5000/app')).toBe(true);
    expect(isLatest('alpine:3')).toBe(false);
    expect(isLatest('localhost:5000/app:1.2')).toBe(false);
    expect(isLatest('alpine@sha256:abc')).toBe(false);
  });

  it('pulls first for always, and for default only with a moving tag', () => {
    expect(pullsFirst('always', 'alpine:3')).toBe(true);
    expect(pullsFirst('default', 'alpine')).toBe(true);
    expect(pullsFirst('default', 'alpine:3')).toBe(false);
    expect(pullsFirst('if-not-exists', 'alpine')).toBe(false);
    expect(pullsFirst('never', 'alpine')).toBe(false);
  });
});

describe('pullImage', () => {
  it('sends the credentials for the image registry as authconfig', async () => {
    const { docker, calls } = dockerPulling(['{"status":"Pulling"}', '{"status":"Done"}']);
    await pullImage(docker, 'ghcr.io/org/app:1', never, [
      { registry: 'docker.io', username: 'hub', password: 'x' },
      { registry: 'ghcr.io', username: 'gh', password: 'tok' },
    ]);
    expect(calls[0].opts.authconfig).toEqual({ username: 'gh', password: 'tok', serveraddress: 'ghcr.io' });
  });

  it('sends no credentials to a registry it has none for', async () => {
    const { docker, calls } = dockerPulling(['{"status":"Done"}']);
    await pullImage(docker, 'alpine:3', never, [{ registry: 'ghcr.io', username: 'gh', password: 'tok' }]);
    expect(calls[0].opts.authconfig).toBeUndefined();
  });

  it('turns an error reported inside the pull stream into an error naming the image', async () => {
    const { docker } = dockerPulling(['{"status":"Pulling"}', '{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}']);
    const err = await pullImage(docker, 'alpine:9.9', never).catch((e) => e);
    expect(err).toBeInstanceOf(ImageUnavailableError);
    expect(err.message).toBe('image "alpine:9.9" is not available: pull failed: manifest unknown');
  });
});
