import { describe, expect, it } from 'vitest';
import { signBitbucketBody } from '../../test/fakes/bitbucket-payloads.ts';
import { readCorpusBytes, readCorpusJson } from '../../test/fakes/corpus.ts';
import { signGithubBody } from '../../test/fakes/github-payloads.ts';
import { verifyBitbucketSignature } from './bitbucket/signature.ts';
import { verifyGithubSignature } from './github/signature.ts';
import { signatureProblem } from './verify-signature.ts';

const goScmPush = readCorpusBytes('go-scm-github/webhooks/push.json');

describe('GitHub signatures: go-scm’s test vectors', () => {
  const { signature_vectors: vectors } = readCorpusJson<{ signature_vectors: { test: string; payload?: string; secret?: string; header?: string; value?: string; expect: string }[] }>(
    'go-scm-github/index.json',
  );
  // go-scm falls back to SHA-1; Harrier does only with HARRIER_GITHUB_ALLOW_SHA1 (allowSha1).
  for (const v of vectors.filter((x) => x.header)) {
    const valid = v.expect.startsWith('valid');
    it(`${v.test}: ${v.header} ${valid ? 'verifies' : 'is refused'} when SHA-1 is allowed`, async () => {
      const body = readCorpusBytes(`go-scm-github/${v.payload}`);
      expect(await verifyGithubSignature({ [v.header!]: v.value! }, body, v.secret!, { allowSha1: true })).toBe(valid);
    });
  }

  it('matches the value the corpus README gives for push.json and "topsecret"', async () => {
    const header = 'sha256=e3bfe744d4e2e29ed990bde8acfb8255ca51ef65f99657767989fb6349f32957';
    expect(await verifyGithubSignature({ 'x-hub-signature-256': header }, goScmPush, 'topsecret')).toBe(true);
  });
});

describe('GitHub signatures', () => {
  const good = signGithubBody(goScmPush, 'topsecret');

  it('refuses the right signature with the wrong secret', async () => {
    expect(await verifyGithubSignature({ 'X-Hub-Signature-256': good.sha256 }, goScmPush, 'other')).toBe(false);
  });

  it('refuses a delivery whose body was re-serialised, though the JSON is the same', async () => {
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(goScmPush.toString('utf8'))));
    expect(await verifyGithubSignature({ 'X-Hub-Signature-256': good.sha256 }, reserialised, 'topsecret')).toBe(false);
  });

  it('refuses a body changed by one byte', async () => {
    const changed = Buffer.from(goScmPush);
    changed[changed.length - 2] ^= 1;
    expect(await verifyGithubSignature({ 'X-Hub-Signature-256': good.sha256 }, changed, 'topsecret')).toBe(false);
  });

  it('refuses everything when the repository has no secret', async () => {
    expect(await verifyGithubSignature({ 'X-Hub-Signature-256': signGithubBody(goScmPush, '').sha256 }, goScmPush, '')).toBe(false);
  });

  it('refuses a delivery with no signature header', async () => {
    expect(await verifyGithubSignature({}, goScmPush, 'topsecret')).toBe(false);
  });

  it('does not fall back to SHA-1 when a wrong SHA-256 signature is present', async () => {
    const headers = { 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}`, 'X-Hub-Signature': good.sha1 };
    expect(await verifyGithubSignature(headers, goScmPush, 'topsecret')).toBe(false);
  });

  it('verifies the exact bytes of a body with a byte order mark and non-ASCII text', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"message":"grüße 👋"}')]);
    expect(await verifyGithubSignature({ 'X-Hub-Signature-256': signGithubBody(body, 's').sha256 }, body, 's')).toBe(true);
  });

  it('refuses a body that is not UTF-8, which GitHub never sends', async () => {
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    expect(await verifyGithubSignature({ 'X-Hub-Signature-256': signGithubBody(body, 's').sha256 }, body, 's')).toBe(false);
  });

  it('refuses an empty body', async () => {
    expect(await verifyGithubSignature({ 'X-Hub-Signature-256': good.sha256 }, Buffer.alloc(0), 'topsecret')).toBe(false);
  });

  it('verifies abstruse’s real SHA-1-only delivery with its secret when SHA-1 is allowed', async () => {
    const body = readCorpusBytes('github-webhooks/abstruse/push/webhook.delivered.bin.json');
    const headers = { 'X-Hub-Signature': 'sha1=2fe41c5e4351d0622da9a09a1d37f49728d48664' };
    expect(await verifyGithubSignature(headers, body, '73f5195de6', { allowSha1: true })).toBe(true);
    expect(await verifyGithubSignature(headers, body, '73f5195de7', { allowSha1: true })).toBe(false);
  });

  it('refuses abstruse’s real SHA-1-only delivery unless SHA-1 is allowed, naming HARRIER_GITHUB_ALLOW_SHA1', async () => {
    const body = readCorpusBytes('github-webhooks/abstruse/push/webhook.delivered.bin.json');
    const headers = { 'X-Hub-Signature': 'sha1=2fe41c5e4351d0622da9a09a1d37f49728d48664' };
    expect(await verifyGithubSignature(headers, body, '73f5195de6')).toBe(false);
    expect(await signatureProblem('github', headers, body, '73f5195de6', { repo: 'a/b' })).toMatch(/SHA-1 only.*HARRIER_GITHUB_ALLOW_SHA1=true/);
    expect(await signatureProblem('github', headers, body, '73f5195de6', { allowSha1: true })).toBeUndefined();
  });

  it('reads the signature header in any case and as an array', async () => {
    expect(await verifyGithubSignature({ 'X-HUB-SIGNATURE-256': [good.sha256] }, goScmPush, 'topsecret')).toBe(true);
  });
});

describe('Bitbucket signatures', () => {
  const body = readCorpusBytes('bitbucket-webhooks/webhooks/push.json');
  // openssl dgst -sha256 -hmac topsecret < bitbucket-webhooks/webhooks/push.json
  const known = 'sha256=f215867f0abea9a85baeaf15c652b8338f95194645f2adf53a6c4cd0640dd471';

  it('verifies sha256=<HMAC> over the raw body', () => {
    expect(verifyBitbucketSignature({ 'X-Hub-Signature': known }, body, 'topsecret')).toBe(true);
    expect(signBitbucketBody(body, 'topsecret')).toBe(known);
  });

  it('accepts upper-case hex', () => {
    expect(verifyBitbucketSignature({ 'x-hub-signature': `sha256=${known.slice(7).toUpperCase()}` }, body, 'topsecret')).toBe(true);
  });

  it('refuses the wrong secret, a changed body, a missing header and another algorithm', () => {
    expect(verifyBitbucketSignature({ 'X-Hub-Signature': known }, body, 'nope')).toBe(false);
    expect(verifyBitbucketSignature({ 'X-Hub-Signature': known }, Buffer.concat([body, Buffer.from(' ')]), 'topsecret')).toBe(false);
    expect(verifyBitbucketSignature({}, body, 'topsecret')).toBe(false);
    expect(verifyBitbucketSignature({ 'X-Hub-Signature': known.replace('sha256=', 'sha1=') }, body, 'topsecret')).toBe(false);
  });

  it('refuses a truncated signature without comparing unequal lengths', () => {
    expect(verifyBitbucketSignature({ 'X-Hub-Signature': known.slice(0, 40) }, body, 'topsecret')).toBe(false);
  });

  it('refuses everything when the repository has no secret', () => {
    expect(verifyBitbucketSignature({ 'X-Hub-Signature': signBitbucketBody(body, '') }, body, '')).toBe(false);
  });
});

describe('signatureProblem: the 401 answer says why', () => {
  const github = readCorpusBytes('go-scm-github/webhooks/push.json');
  const bitbucket = readCorpusBytes('bitbucket-webhooks/webhooks/push.json');

  it('accepts a valid signature from either provider', async () => {
    expect(await signatureProblem('github', { 'X-Hub-Signature-256': signGithubBody(github, 's').sha256 }, github, 's')).toBeUndefined();
    expect(await signatureProblem('bitbucket', { 'X-Hub-Signature': signBitbucketBody(bitbucket, 's') }, bitbucket, 's')).toBeUndefined();
  });

  it('refuses a GitHub delivery without X-Hub-Signature-256, naming the header', async () => {
    expect(await signatureProblem('github', {}, github, 's', { repo: 'octo/app' })).toMatch(/octo\/app carries no X-Hub-Signature-256/);
  });

  it('does not fall back to SHA-1 when SHA-1 is allowed but a SHA-256 signature is present and wrong', async () => {
    const headers = { 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}`, 'X-Hub-Signature': signGithubBody(github, 's').sha1 };
    expect(await signatureProblem('github', headers, github, 's', { allowSha1: true, repo: 'octo/app' })).toMatch(/does not match octo\/app's webhook secret/);
  });

  it('refuses an unsigned Bitbucket delivery, saying its hook has no secret and how to fix it', async () => {
    const problem = await signatureProblem('bitbucket', {}, bitbucket, 's', { repo: 'team/app' });
    expect(problem).toMatch(/team\/app carries no X-Hub-Signature.*re-activate/);
  });

  it('refuses everything, signed or not, for a repository whose secret Harrier does not hold', async () => {
    for (const provider of ['github', 'bitbucket'] as const) {
      expect(await signatureProblem(provider, {}, bitbucket, '', { repo: 'team/app' })).toMatch(/no webhook secret for team\/app/);
      expect(await signatureProblem(provider, { 'X-Hub-Signature': signBitbucketBody(bitbucket, ''), 'X-Hub-Signature-256': signGithubBody(bitbucket, '').sha256 }, bitbucket, '')).toMatch(/no webhook secret/);
    }
  });
});
