// Credentials for pulling private images, from `image_pull_secrets`: each names a
// secret holding a Docker config.json ({"auths": {"registry": {"auth": base64(user:pass)}}}).

export interface RegistryCredential {
  /** Registry host as Docker normalises it: docker.io, ghcr.io, localhost:5000. */
  registry: string;
  username: string;
  password: string;
}

/** Reads the `auths` of a Docker config.json. Throws with a readable message when it is not one. */
export function parseDockerConfig(json: string): RegistryCredential[] {
  let parsed: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error('is not JSON; it should hold a Docker config.json with an "auths" object');
  }
  const out: RegistryCredential[] = [];
  for (const [key, entry] of Object.entries(parsed.auths ?? {})) {
    let { username = '', password = '' } = entry;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString();
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        username = decoded.slice(0, colon);
        password = decoded.slice(colon + 1);
      }
    }
    if (username) out.push({ registry: normaliseRegistry(key), username, password });
  }
  return out;
}

/** The registry part of a config key: "https://index.docker.io/v1/" -> docker.io. */
export function normaliseRegistry(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').split('/')[0].toLowerCase();
  return ['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'].includes(host) ? 'docker.io' : host;
}

/** The registry an image reference pulls from, as Docker decides it. */
export function registryOf(image: string): string {
  const first = image.split('/')[0];
  const hasRegistry = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  return hasRegistry ? normaliseRegistry(first) : 'docker.io';
}

export function credentialFor(image: string, credentials: RegistryCredential[]): RegistryCredential | undefined {
  const registry = registryOf(image);
  return credentials.find((c) => c.registry === registry);
}
