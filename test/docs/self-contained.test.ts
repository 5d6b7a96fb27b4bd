// A user's clone has nothing beside it, and CI runs the README's test command and nothing
// else. These rules keep it so: a test that reads a sibling folder passes on the machine of
// whoever wrote it and fails on everyone else's.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
// Spelled in parts so this file does not name what it looks for.
const SIBLING = ['..', 'shared'].join('/');
const SOURCE = /\.(ts|tsx|mts|mjs|cjs|js|sh|json|yaml|yml)$/;
const SKIP = new Set(['node_modules', 'dist', 'fixtures', 'test-artifacts', 'results']);

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return SKIP.has(entry.name) ? [] : sources(full);
    return SOURCE.test(entry.name) ? [full] : [];
  });
}

/** Every test file and test helper in the tree, wherever it sits. */
function testSources(): string[] {
  const all = ['server', 'runner', 'pipeline', 'core', 'cli', 'web/src'].flatMap((d) => sources(path.join(root, d)));
  return all.filter((f) => /\.test\.tsx?$/.test(f) || f.split(path.sep).includes('testing'));
}

describe('a fresh clone', () => {
  it(`has no test, benchmark or script that reaches outside the repository (${SIBLING})`, () => {
    const files = [...['test', 'bench', 'scripts', '.ci'].flatMap((d) => sources(path.join(root, d))), ...testSources(), path.join(root, 'vitest.config.ts')];
    expect(files.length).toBeGreaterThan(50);
    const offenders = files
      .filter((f) => fs.readFileSync(f, 'utf8').includes(SIBLING))
      .map((f) => path.relative(root, f));
    expect(offenders, 'copy what they read into test/fixtures/ with its licence').toEqual([]);
  });

  it('reads recorded provider data from test/fixtures/corpus, each source with its licence and provenance', () => {
    const corpus = path.join(root, 'test/fixtures/corpus');
    for (const folder of ['github-webhooks', 'github-webhooks/abstruse', 'go-scm-github', 'bitbucket-webhooks', 'bitbucket-webhooks/abstruse', 'bitbucket-webhooks/atlantis', 'bitbucket-webhooks/woodpecker', 'go-scm-api/github', 'go-scm-api/bitbucket', 'woodpecker']) {
      expect(fs.existsSync(path.join(corpus, folder, 'LICENSE')), `${folder}/LICENSE`).toBe(true);
    }
    for (const folder of ['github-webhooks', 'github-webhooks/abstruse', 'go-scm-github', 'bitbucket-webhooks', 'go-scm-api/github', 'go-scm-api/bitbucket', 'woodpecker']) {
      expect(fs.existsSync(path.join(corpus, folder, 'PROVENANCE.md')), `${folder}/PROVENANCE.md`).toBe(true);
    }
  });

  it('is tested by CI with the README\'s test command and nothing else', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const quickstart = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const testCommand = quickstart.split('\n').map((l) => l.replace(/#.*/, '').trim()).find((l) => l.startsWith('npm test'));
    expect(testCommand).toBe('npm test');
    const ci = fs
      .readFileSync(path.join(root, '.ci/run'), 'utf8')
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter((l) => l && !l.startsWith('set ') && !l.startsWith('cd '));
    expect(ci).toEqual([testCommand]);
  });
});
