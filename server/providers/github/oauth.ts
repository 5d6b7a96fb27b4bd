// GitHub's OAuth web flow, on the web host (github.com or a GitHub Enterprise Server):
// the authorize page, and the token endpoint for a code or a refresh token.
import type { ProviderConfig } from '../../config.ts';
import { expiryFrom, type ApiCall, type ApiRequester } from '../api-request.ts';
import { ScmError, type ScmToken } from '../scm.ts';

/** What the OAuth app asks for: private repos, commit statuses, the primary email, org membership. */
export const GITHUB_SCOPES = 'repo,repo:status,user:email,read:org';

export function githubAuthorizeUrl(config: ProviderConfig, state: string, redirectUri: string): string {
  const q = new URLSearchParams({ client_id: config.clientId, redirect_uri: redirectUri, scope: GITHUB_SCOPES, state });
  return `${config.url}/login/oauth/authorize?${q}`;
}

/** Trades a code or a refresh token; GitHub answers a refused one with 200 and an error field, so both are checked. */
export async function githubToken(api: ApiRequester, config: ProviderConfig, grant: Record<string, string>): Promise<ScmToken> {
  const call: ApiCall = {
    method: 'POST',
    url: `${config.url}/login/oauth/access_token`,
    accept: 'application/json',
    form: { client_id: config.clientId, client_secret: config.clientSecret, ...grant },
  };
  const { data } = await api.json<Record<string, unknown>>(call);
  if (!data || typeof data.access_token !== 'string' || !data.access_token) {
    const reason = String(data?.error_description ?? data?.error ?? 'no access_token in the answer');
    throw new ScmError(`GitHub refused the OAuth ${grant.code ? 'code' : 'refresh token'}: ${reason}`, 401, 'github');
  }
  return {
    access: data.access_token,
    refresh: typeof data.refresh_token === 'string' ? data.refresh_token : '',
    expires: expiryFrom(data.expires_in),
  };
}
