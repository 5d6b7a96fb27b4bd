import { afterEach, describe, expect, it } from 'vitest';
import { HARRIER_VERSION } from '../../core/version.ts';
import { startApiHarness, type ApiHarness } from '../../test/support/http.ts';

describe('GET /api/system', () => {
  let harness: ApiHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  const system = async (env: Record<string, string>) => {
    harness = await startApiHarness({ env });
    return harness.browser().json('/api/system');
  };

  it('answers the version, HARRIER_HOST and which providers offer sign-in, to someone not signed in', async () => {
    const res = await system({ HARRIER_GITHUB_CLIENT_ID: 'id', HARRIER_GITHUB_CLIENT_SECRET: 'secret' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ version: HARRIER_VERSION, host: harness!.url, providers: { github: true, bitbucket: false } });
  });

  it('offers a provider only when both its client id and its secret are set', async () => {
    const res = await system({ HARRIER_BITBUCKET_CLIENT_ID: 'id', HARRIER_BITBUCKET_CLIENT_SECRET: 'secret', HARRIER_GITHUB_CLIENT_ID: 'id only' });
    expect(res.body.providers).toEqual({ github: false, bitbucket: true });
  });

  it('says no provider is configured on a bare server', async () => {
    const res = await system({});
    expect(res.body.providers).toEqual({ github: false, bitbucket: false });
  });
});
