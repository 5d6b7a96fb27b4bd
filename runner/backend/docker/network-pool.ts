// Stage networks kept from one stage for the next. Creating a bridge network costs the
// engine about as much as a tenth of a container's start, on the path of every stage;
// a network whose containers are all removed holds nothing of its stage (endpoints and
// their DNS names go with the containers), so the next stage of the same runner can use it.
import crypto from 'node:crypto';
import type Docker from 'dockerode';
import { LABEL_MANAGED } from '../../labels.ts';
import { engineMessage } from './image-pull.ts';

/** Idle networks kept at most; more stages at once make more, and the rest are removed. */
const MAX_IDLE = 4;

export class NetworkPool {
  private readonly idle: string[] = [];

  /** `labels` go on every network it makes: the runner's, so a crashed runner's networks are found again. */
  constructor(
    private readonly docker: Docker,
    private readonly labels: Record<string, string>,
  ) {}

  /** An idle network that still exists, or a new one. */
  async take(signal: AbortSignal): Promise<string> {
    for (let name = this.idle.pop(); name !== undefined; name = this.idle.pop()) {
      // `docker network prune` removes networks no container uses, as idle ones are.
      const exists = await this.docker
        .getNetwork(name)
        .inspect()
        .then(
          (info: { Containers?: Record<string, unknown> }) => Object.keys(info.Containers ?? {}).length === 0,
          () => false,
        );
      if (exists) return name;
    }
    const name = `harrier-net-${crypto.randomBytes(6).toString('hex')}`;
    try {
      await this.docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: { ...this.labels, [LABEL_MANAGED]: 'true' },
        abortSignal: signal,
      } as Docker.NetworkCreateOptions);
    } catch (err) {
      throw new Error(`could not create network ${name}: ${engineMessage(err)}`);
    }
    return name;
  }

  /** Takes back a network whose containers are all removed. */
  async give(name: string): Promise<void> {
    if (this.idle.length < MAX_IDLE) {
      this.idle.push(name);
      return;
    }
    await this.docker.getNetwork(name).remove();
  }

  /** Removes the idle networks: the runner is stopping. */
  async close(): Promise<void> {
    const names = this.idle.splice(0);
    await Promise.all(names.map((name) => this.docker.getNetwork(name).remove().catch(() => {})));
  }
}
