// Bitbucket Cloud's OAuth 2 flow, on the web host (bitbucket.org): the authorize page,
// and the token endpoint (client credentials as Basic) for a code or a refresh token.
import type { ProviderConfig } from '../../config.ts';
import { expiryFrom, type ApiRequester } from '../api-request.ts';
import { ScmError, type ScmToken } from '../scm.ts';

export function bitbucketAuthorizeUrl(config: ProviderConfig, state: string, redirectUri: string): string {
  const q = new URLSearchParams({ client_id: config.clientId, response_type: 'code', state, redirect_uri: redirectUri });
  return `${config.url}/site/oauth2/authorize?${q}`;
}

export async function bitbucketToken(api: ApiRequester, config: ProviderConfig, form: Record<string, string>): Promise<ScmToken> {
  const { data } = await api.json<Record<string, unknown>>({
    method: 'POST',
    url: `${config.url}/site/oauth2/access_token`,
    basic: { user: config.clientId, password: config.clientSecret },
    form,
  });
  if (!data || typeof data.access_token !== 'string' || !data.access_token) {
    throw new ScmError('Bitbucket answered the token request without an access_token', 502, 'bitbucket');
  }
  return {
    access: data.access_token,
    refresh: typeof data.refresh_token === 'string' ? data.refresh_token : '',
    expires: expiryFrom(data.expires_in),
  };
}
