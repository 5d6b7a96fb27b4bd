// One registry keyed by provider: outside server/providers/ (and web/src/providers.ts,
// the web UI's one list), code asks the registry and never names GitHub or Bitbucket.
// Comments may; they say why.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../config.ts';
import { createProviders } from './registry.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Files allowed to name a provider in code, and why. config.ts reads each provider's
 * HARRIER_<PROVIDER>_* variables, which the README lists and the configuration loads once.
 */
const EXCEPTIONS: Record<string, string> = {
  'server/config.ts': 'reads HARRIER_GITHUB_* and HARRIER_BITBUCKET_* (and "provider:login" in HARRIER_ADMINS)',
  'web/src/providers.ts': "the web UI's one list of provider names and sign-in variables",
};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return rel === 'server/providers' || rel === 'server/db/generated' ? [] : sourceFiles(rel);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [rel] : [];
  });
}

/** The code without its comments: block comments, and line comments that start a line or follow a space. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');
}

describe('provider names stay in server/providers/', () => {
  it('no server or web file outside it names GitHub or Bitbucket in code', () => {
    const offenders = [...sourceFiles('server'), ...sourceFiles('web/src')]
      .filter((file) => !(file in EXCEPTIONS))
      .flatMap((file) =>
        code(fs.readFileSync(path.join(ROOT, file), 'utf8'))
          .split('\n')
          .filter((line) => /github|bitbucket/i.test(line))
          .map((line) => `${file}: ${line.trim()}`),
      );
    expect(offenders).toEqual([]);
  });

  it('finds a provider named in code, so the check above can fail', () => {
    expect(code("const x = user.provider === 'bitbucket'; // GitHub").includes('bitbucket')).toBe(true);
    expect(code('// only GitHub here\n/* and Bitbucket */')).not.toMatch(/github|bitbucket/i);
  });

  it('every registered provider has a name, a configuration prefix, a webhook and image sources', () => {
    for (const p of createProviders(loadServerConfig({})).list()) {
      expect(p.name, p.provider).toMatch(/\S/);
      expect(p.envPrefix).toBe(`HARRIER_${p.provider.toUpperCase()}`);
      expect(p.webhook.eventHeader).toMatch(/^X-/);
      expect(p.imageSources.length).toBeGreaterThan(0);
      for (const method of ['authorizeUrl', 'exchange', 'refresh', 'user', 'orgs', 'orgAdmin', 'repos', 'repo', 'findCommit', 'file', 'createHook', 'deleteHook', 'status', 'netrc', 'changedFiles'] as const) {
        expect(typeof p[method], `${p.provider}.${method}`).toBe('function');
      }
      for (const method of ['recognizes', 'deliveryId', 'identify', 'signatureProblem', 'parse'] as const) {
        expect(typeof p.webhook[method], `${p.provider}.webhook.${method}`).toBe('function');
      }
    }
  });
});
