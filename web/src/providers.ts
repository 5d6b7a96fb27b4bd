// The providers as the web UI shows them: their names, and the variables that configure
// sign-in. The one place in web/ that names them (the server's is server/providers/);
// /api/system says which ones this server offers.

export interface ProviderInfo {
  /** The id in /login/{id}, user.provider and repo.scm. */
  id: string;
  name: string;
  /** HARRIER_<ID>: its OAuth app goes in …_CLIENT_ID and …_CLIENT_SECRET. */
  env: string;
}

/** In the order the sign-in page offers them. */
export const PROVIDERS: readonly ProviderInfo[] = [
  { id: 'github', name: 'GitHub', env: 'HARRIER_GITHUB' },
  { id: 'bitbucket', name: 'Bitbucket', env: 'HARRIER_BITBUCKET' },
];

/** How people call the provider; its id for one this page does not know. */
export function providerName(id: string): string {
  return PROVIDERS.find((p) => p.id === id)?.name ?? id;
}
