// Pull policies as Drone has them: always, never, if-not-exists, and a default that
// pulls `:latest` images every time and tagged ones only when missing.
import type Docker from 'dockerode';
import type { PullPolicy } from '../../../pipeline/types.ts';
import { ImageUnavailableError } from '../backend.ts';
import { credentialFor, type RegistryCredential } from '../registry-auth.ts';

/** An image without a tag, or tagged latest, moves; a pinned tag or digest does not. */
export function isLatest(image: string): boolean {
  if (image.includes('@')) return false;
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  return colon < 0 || image.slice(colon + 1) === 'latest';
}

/** Whether to pull before creating the container; otherwise the backend pulls only if the engine lacks the image. */
export function pullsFirst(policy: PullPolicy, image: string): boolean {
  return policy === 'always' || (policy === 'default' && isLatest(image));
}

export async function pullImage(docker: Docker, image: string, signal: AbortSignal, credentials: RegistryCredential[] = []): Promise<void> {
  let events: { error?: string; errorDetail?: { message?: string } }[];
  const credential = credentialFor(image, credentials);
  // dockerode sends authconfig as the X-Registry-Auth header, never in the URL.
  const authconfig = credential && { username: credential.username, password: credential.password, serveraddress: credential.registry };
  try {
    const stream = await docker.pull(image, { abortSignal: signal, ...(authconfig ? { authconfig } : {}) });
    events = await new Promise((resolve, reject) => {
      docker.modem.followProgress(stream, (err: Error | null, out: typeof events) => (err ? reject(err) : resolve(out)));
    });
  } catch (err) {
    signal.throwIfAborted();
    throw new ImageUnavailableError(image, `pull failed: ${engineMessage(err)}`);
  }
  // The engine reports a failed pull as an event in a 200 stream, not as an HTTP error.
  const failure = events.find((e) => e.error || e.errorDetail);
  if (failure) {
    throw new ImageUnavailableError(image, `pull failed: ${failure.errorDetail?.message ?? failure.error}`);
  }
}

/** The engine's own message, without dockerode's "(HTTP code 404) no such container - " wrapping. */
export function engineMessage(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string };
  return (e.json?.message ?? e.message ?? String(err)).trim();
}
