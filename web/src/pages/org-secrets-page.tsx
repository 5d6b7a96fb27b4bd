// An organisation's (GitHub) or workspace's (Bitbucket) secrets, shared by all its
// repositories. Only its administrators at the provider and Harrier administrators may
// see or change them; the API says so to anyone else, and the page shows that answer.
import { useState } from 'react';
import { LiveRegion } from '../components/common.tsx';
import { useLocation } from '../router.tsx';
import { useSession, useTitle } from '../session.tsx';
import { SecretsSection } from './secrets-settings.tsx';

export function OrgSecretsPage({ namespace }: { namespace: string }) {
  useTitle(`Organisation secrets · ${namespace}`);
  const { user } = useSession();
  const { search } = useLocation();
  // Without ?provider= the server takes the signed-in user's provider; naming it keeps the page about one namespace.
  const provider = new URLSearchParams(search).get('provider') ?? user.provider;
  const [announce, setAnnounce] = useState('');
  return (
    <div className="page">
      <h1>Organisation secrets of {namespace}</h1>
      <LiveRegion message={announce} />
      <div className="settings">
        <SecretsSection
          key={`${provider}/${namespace}`}
          base={`/api/secrets/${encodeURIComponent(namespace)}`}
          query={`?provider=${encodeURIComponent(provider)}`}
          heading="Secrets"
          onChanged={setAnnounce}
        >
          Every repository of {namespace} reads these with <code>from_secret</code>, unless it has a secret of the same name itself. Values are write-only; pull
          requests from forks get a secret only when you allow it.
        </SecretsSection>
      </div>
    </div>
  );
}
