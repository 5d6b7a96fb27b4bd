import { describe, expect, it } from 'vitest';
import { credentialFor, parseDockerConfig, registryOf } from './registry-auth.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('registry credentials', () => {
  it('reads user and password from the auth field and from explicit fields of a config.json', () => {
    const creds = parseDockerConfig(
      JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: b64('hub-user:hub:pass') }, 'ghcr.io': { username: 'gh', password: 'tok' } } }),
    );
    expect(creds).toEqual([
      { registry: 'docker.io', username: 'hub-user', password: 'hub:pass' },
      { registry: 'ghcr.io', username: 'gh', password: 'tok' },
    ]);
  });

  it('refuses text that is not a config.json with a hint', () => {
    expect(() => parseDockerConfig('user:pass')).toThrow(/Docker config.json/);
  });

  it('finds the registry of an image the way Docker does', () => {
    expect(registryOf('alpine:3')).toBe('docker.io');
    expect(registryOf('library/alpine')).toBe('docker.io');
    expect(registryOf('ghcr.io/org/app:1')).toBe('ghcr.io');
    expect(registryOf('localhost:5000/app')).toBe('localhost:5000');
    expect(registryOf('localhost/app')).toBe('localhost');
  });

  it('picks the credential for the image registry only', () => {
    const creds = [{ registry: 'ghcr.io', username: 'gh', password: 'tok' }];
    expect(credentialFor('ghcr.io/org/app', creds)?.username).toBe('gh');
    expect(credentialFor('alpine:3', creds)).toBeUndefined();
  });
});
