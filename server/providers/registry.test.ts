import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../config.ts';
import { BitbucketScm } from './bitbucket/api.ts';
import { GithubScm } from './github/api.ts';
import { createProviders } from './registry.ts';

describe('createScms', () => {
  it('builds one client per provider, keyed by provider name', () => {
    const scms = createProviders(loadServerConfig({}));
    expect(scms.get('github')).toBeInstanceOf(GithubScm);
    expect(scms.get('bitbucket')).toBeInstanceOf(BitbucketScm);
    expect(scms.get('github').provider).toBe('github');
    expect(scms.get('bitbucket').provider).toBe('bitbucket');
  });

  it('offers sign-in only for a provider whose client id and secret are set', () => {
    const scms = createProviders(loadServerConfig({ HARRIER_GITHUB_CLIENT_ID: 'id', HARRIER_GITHUB_CLIENT_SECRET: 'secret' }));
    expect(scms.get('github').configured).toBe(true);
    expect(scms.get('bitbucket').configured).toBe(false);
  });

  it('points each client at its configured web and API hosts', () => {
    const scms = createProviders(
      loadServerConfig({
        HARRIER_GITHUB_CLIENT_ID: 'gh',
        HARRIER_GITHUB_URL: 'https://ghe.example.com/',
        HARRIER_BITBUCKET_CLIENT_ID: 'bb',
        HARRIER_BITBUCKET_URL: 'https://bb.example.com',
      }),
    );
    expect(scms.get('github').authorizeUrl('s', 'http://h/cb')).toMatch(/^https:\/\/ghe\.example\.com\/login\/oauth\/authorize\?client_id=gh&/);
    expect(scms.get('bitbucket').authorizeUrl('s', 'http://h/cb')).toMatch(/^https:\/\/bb\.example\.com\/site\/oauth2\/authorize\?client_id=bb&/);
  });
});
