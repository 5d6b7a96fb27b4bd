import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../config.ts';
import { BitbucketScm } from './bitbucket/api.ts';
import { GithubScm } from './github/api.ts';
import { createScms } from './registry.ts';

describe('createScms', () => {
  it('builds one client per provider, keyed by provider name', () => {
    const scms = createScms(loadServerConfig({}));
    expect(scms.github).toBeInstanceOf(GithubScm);
    expect(scms.bitbucket).toBeInstanceOf(BitbucketScm);
    expect(scms.github.provider).toBe('github');
    expect(scms.bitbucket.provider).toBe('bitbucket');
  });

  it('offers sign-in only for a provider whose client id and secret are set', () => {
    const scms = createScms(loadServerConfig({ HARRIER_GITHUB_CLIENT_ID: 'id', HARRIER_GITHUB_CLIENT_SECRET: 'secret' }));
    expect(scms.github.configured).toBe(true);
    expect(scms.bitbucket.configured).toBe(false);
  });

  it('points each client at its configured web and API hosts', () => {
    const scms = createScms(
      loadServerConfig({
        HARRIER_GITHUB_CLIENT_ID: 'gh',
        HARRIER_GITHUB_URL: 'https://ghe.example.com/',
        HARRIER_BITBUCKET_CLIENT_ID: 'bb',
        HARRIER_BITBUCKET_URL: 'https://bb.example.com',
      }),
    );
    expect(scms.github.authorizeUrl('s', 'http://h/cb')).toMatch(/^https:\/\/ghe\.example\.com\/login\/oauth\/authorize\?client_id=gh&/);
    expect(scms.bitbucket.authorizeUrl('s', 'http://h/cb')).toMatch(/^https:\/\/bb\.example\.com\/site\/oauth2\/authorize\?client_id=bb&/);
  });
});
