// Runner names for tests that touch the Docker engine. Each run gets a fresh name, so
// parallel runs never clean up each other's objects; a run that was killed before its
// afterAll (a bailed suite, a timeout) leaves objects behind, which later runs sweep
// once they are old enough that no live run can still be using them.
import crypto from 'node:crypto';
import Docker from 'dockerode';
import { LABEL_MANAGED, LABEL_RUNNER } from '../labels.ts';

const PREFIX = 'harrier-runner-test-';
const STALE_MS = 10 * 60_000;

export function testRunnerName(kind: string): string {
  return `${PREFIX}${kind}-${crypto.randomBytes(3).toString('hex')}`;
}

/** Removes containers, networks and volumes of test runners that are older than ten minutes. */
export async function sweepStaleTestObjects(docker: Docker = new Docker()): Promise<void> {
  const filters = { label: [`${LABEL_MANAGED}=true`] };
  const before = Date.now() - STALE_MS;
  const isTest = (labels: Record<string, string> | undefined) => (labels?.[LABEL_RUNNER] ?? '').startsWith(PREFIX);
  const gone = () => {};
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(
    containers.filter((c) => isTest(c.Labels) && c.Created * 1000 < before).map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(gone)),
  );
  const networks = await docker.listNetworks({ filters });
  await Promise.all(networks.filter((n) => isTest(n.Labels) && Date.parse(n.Created) < before).map((n) => docker.getNetwork(n.Id).remove().catch(gone)));
  const volumes = (await docker.listVolumes({ filters })).Volumes ?? [];
  await Promise.all(
    volumes
      .filter((v) => isTest(v.Labels) && Date.parse((v as { CreatedAt?: string }).CreatedAt ?? '') < before)
      .map((v) => docker.getVolume(v.Name).remove().catch(gone)),
  );
}
