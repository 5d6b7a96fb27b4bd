// Throwaway git working copies for `harrier exec` tests, and a check that a run left
// nothing behind on the Docker engine (everything exec makes carries io.harrier.repo).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { LABEL_REPO } from '../../pipeline/index.ts';

export interface GitWorkdir {
  dir: string;
  /** io.harrier.repo of what exec creates here: local/<folder name> (no origin remote). */
  slug: string;
  sha: string;
  git(...args: string[]): string;
}

/** A git repository on `branch` with `files` committed. */
export function gitWorkdir(files: Record<string, string>, branch = 'main'): GitWorkdir {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'harrier-exec-test-'));
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=Octo Cat', '-c', 'user.email=octo@example.com', ...args], { cwd: dir, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', branch);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  git('add', '.');
  git('commit', '-q', '-m', 'first commit');
  return { dir, slug: `local/${path.basename(dir)}`, sha: git('rev-parse', 'HEAD'), git };
}

/** Containers, networks and volumes still on the engine for this repository. */
export async function leftovers(slug: string, docker = new Docker()): Promise<string[]> {
  const filters = { label: [`${LABEL_REPO}=${slug}`] };
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  return [...containers.map((c) => `container ${c.Names[0]}`), ...networks.map((n) => `network ${n.Name}`), ...(volumes.Volumes ?? []).map((v) => `volume ${v.Name}`)];
}

/** Removes the folder; as a non-root user, files steps made as root may stay behind in the temp folder. */
export function removeWorkdir(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    // Left for the system's temp cleaning.
  }
}
