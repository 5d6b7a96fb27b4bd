import { describe, expect, it } from 'vitest';
import { readCorpusBytes } from '../../test/fakes/corpus.ts';
import { detectProvider, HookError, identifyHookRepo, parseHook, verifyHookSignature } from './parse-hook.ts';

const githubPush = readCorpusBytes('go-scm-github/webhooks/push.json');
const bitbucketPush = readCorpusBytes('bitbucket-webhooks/webhooks/push.json');

describe('parseHook front door', () => {
  it('tells GitHub from Bitbucket by the event header', () => {
    expect(detectProvider({ 'X-GitHub-Event': 'push' })).toBe('github');
    expect(detectProvider({ 'x-event-key': 'repo:push' })).toBe('bitbucket');
  });

  it('refuses a delivery that names no event with a 400 naming both headers', () => {
    const err = (() => {
      try {
        detectProvider({ 'content-type': 'application/json' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(HookError);
    expect((err as HookError).status).toBe(400);
    expect((err as HookError).message).toMatch(/X-GitHub-Event.*X-Event-Key/);
  });

  it('identifies, verifies and parses a GitHub delivery', async () => {
    const headers = { 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': 'd-1', 'X-Hub-Signature-256': 'sha256=e3bfe744d4e2e29ed990bde8acfb8255ca51ef65f99657767989fb6349f32957' };
    const id = identifyHookRepo(headers, githubPush);
    expect(id).toEqual({
      provider: 'github',
      event: 'push',
      deliveryId: 'd-1',
      repo: { uid: '135493233', slug: 'Codertocat/Hello-World', privacy: { private: false, visibility: 'public' } },
    });
    expect(await verifyHookSignature(id.provider, headers, githubPush, 'topsecret')).toBe(true);
    const result = parseHook(headers, githubPush);
    expect(result.kind === 'hook' && result.hook.after).toBe('199eddf46df50de8d02e99bf1c5fdb4101338224');
  });

  it('identifies, verifies and parses a Bitbucket delivery', async () => {
    const headers = { 'X-Event-Key': 'repo:push', 'X-Request-UUID': 'r-1', 'X-Hub-Signature': 'sha256=f215867f0abea9a85baeaf15c652b8338f95194645f2adf53a6c4cd0640dd471' };
    const id = identifyHookRepo(headers, bitbucketPush);
    expect(id).toEqual({
      provider: 'bitbucket',
      event: 'repo:push',
      deliveryId: 'r-1',
      repo: { uid: '{bc771cbf-829e-4c4b-b71f-a0eb3ac2b860}', slug: 'brydzewski/foo', privacy: { private: true, visibility: 'private' } },
    });
    expect(await verifyHookSignature(id.provider, headers, bitbucketPush, 'topsecret')).toBe(true);
    expect(await verifyHookSignature(id.provider, headers, bitbucketPush, 'wrong')).toBe(false);
    expect(parseHook(headers, bitbucketPush).kind).toBe('hook');
  });

  it('identifies a delivery that names no repository as repo null, and parsing ignores it', () => {
    const ping = readCorpusBytes('github-webhooks/ping.organization.json');
    expect(identifyHookRepo({ 'X-GitHub-Event': 'ping' }, ping).repo).toBeNull();
    expect(parseHook({ 'X-GitHub-Event': 'ping' }, ping).kind).toBe('ignored');
  });

  it('refuses to identify a body that is not JSON, before any lookup', () => {
    expect(() => identifyHookRepo({ 'X-Event-Key': 'repo:push' }, Buffer.from('<xml/>'))).toThrow(HookError);
  });
});
