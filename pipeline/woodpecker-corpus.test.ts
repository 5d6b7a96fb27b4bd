// Woodpecker's pipeline samples (test/fixtures/corpus/woodpecker, Apache-2.0) run through
// Harrier's parser. Woodpecker files have no `kind:` and may write steps as a map;
// those two purely syntactic differences are translated to Drone's form here. Files
// using syntax only Woodpecker has must be refused with an error that names the
// Woodpecker-only key, so a user moving over learns what to change.

import fs from 'node:fs';
import path from 'node:path';
import { isMap, parseDocument, YAMLMap, YAMLSeq, type Pair } from 'yaml';
import { describe, expect, it } from 'vitest';
import { corpusPath } from '../test/fakes/corpus.ts';
import { parsePipelines } from './parse.ts';

const schemaDir = corpusPath('woodpecker/pipeline/frontend/yaml/linter/schema');
const samplesDir = path.join(schemaDir, '.woodpecker');

type Case =
  | { mode: 'drone'; expect: 'pass' | 'fail'; error?: RegExp; why?: string }
  /** Syntax only Woodpecker has: Harrier must refuse it with an error naming what it does not know. */
  | { mode: 'woodpecker-only'; error: RegExp; why: string };

const CASES: Record<string, Case> = {
  'test-array-syntax.yaml': { mode: 'woodpecker-only', error: /`clone` must be a mapping/, why: '`clone:` as a list of plugin steps is Woodpecker-only; Drone has clone: {disable, depth, retries}' },
  'test-backend-options.yaml': { mode: 'woodpecker-only', error: /unknown key `backend_options`/, why: '`backend_options` is Woodpecker-only' },
  'test-broken-plugin.yaml': { mode: 'drone', expect: 'pass', why: 'Woodpecker forbids `environment` beside `settings`; Drone, and so Harrier, allow it' },
  'test-broken-plugin2.yaml': { mode: 'drone', expect: 'pass', why: 'Woodpecker forbids `commands` beside `settings`; Drone, and so Harrier, allow it' },
  'test-broken-service-without-name.yaml': { mode: 'drone', expect: 'fail', error: /service #1 has no name/ },
  'test-broken.yaml': { mode: 'drone', expect: 'fail', error: /step `build` has no image/ },
  'test-clone-skip.yaml': { mode: 'woodpecker-only', error: /unknown key `skip_clone`/, why: '`skip_clone` is Woodpecker\'s; Drone writes clone: {disable: true}' },
  'test-clone.yaml': { mode: 'woodpecker-only', error: /unknown key `git` in `clone`/, why: '`clone:` as a map of plugin steps is Woodpecker-only' },
  'test-concurrency-invalid.yaml': { mode: 'drone', expect: 'fail', error: /unknown key `group` in `concurrency`/ },
  'test-concurrency-shorthand.yaml': { mode: 'woodpecker-only', error: /`concurrency` must be a mapping/, why: 'the `concurrency: 1` shorthand is Woodpecker-only; Drone writes concurrency: {limit: 1}' },
  'test-concurrency.yaml': { mode: 'woodpecker-only', error: /unknown key `group` in `concurrency`/, why: '`concurrency.group` is Woodpecker-only' },
  'test-custom-backend.yaml': { mode: 'woodpecker-only', error: /unknown key `backend_options`/, why: '`backend_options` is Woodpecker-only' },
  'test-dag.yaml': { mode: 'drone', expect: 'pass' },
  'test-kubernetes-backend-tolerations.yaml': { mode: 'woodpecker-only', error: /unknown key `backend_options`/, why: '`backend_options` is Woodpecker-only' },
  'test-labels.yaml': { mode: 'woodpecker-only', error: /unknown key `labels` in the pipeline/, why: '`labels` is Woodpecker\'s name for Drone\'s `node`' },
  'test-matrix.yaml': { mode: 'woodpecker-only', error: /unknown key `matrix` in the pipeline/, why: '`matrix` builds are Woodpecker-only (Drone 1.x dropped them)' },
  'test-merge-map-and-sequence.yaml': {
    mode: 'drone',
    expect: 'fail',
    error: /cannot splice a list into a list/,
    why: 'YAML merges only mappings; `- <<: *list` inside a list is a Woodpecker extension, which Harrier rejects with a clear error',
  },
  'test-multi.yaml': { mode: 'drone', expect: 'pass' },
  'test-pipeline-when.yaml': { mode: 'woodpecker-only', error: /unknown key `when` in the pipeline/, why: '`when` as a list of alternatives, `path` and `evaluate` are Woodpecker-only' },
  'test-plugin.yaml': { mode: 'drone', expect: 'pass' },
  'test-run-on.yaml': { mode: 'woodpecker-only', error: /unknown key `runs_on` in the pipeline/, why: '`runs_on` is Woodpecker-only; Drone uses trigger: {status: [...]}' },
  'test-service.yaml': { mode: 'woodpecker-only', error: /unknown key `ports` in service/, why: '`ports` and `directory` are Woodpecker-only service keys' },
  'test-step.yaml': { mode: 'woodpecker-only', error: /`pull` must be one of always, never, if-not-exists, default/, why: '`pull: true` and `/host:/container` volume strings are Woodpecker-only; Drone uses pull policies and named volumes' },
  'test-when.yaml': { mode: 'woodpecker-only', error: /unknown key `when` in the pipeline/, why: '`when` as a list, `platform`, `matrix`, `evaluate` and Woodpecker event names are Woodpecker-only' },
  'test-workspace.yaml': { mode: 'drone', expect: 'pass' },
};

/** Adds Drone's `kind`/`type` header and writes a map of steps as Drone's list of named steps. */
function toDroneSyntax(text: string): string {
  const doc = parseDocument(text, { version: '1.1' });
  const root = doc.contents as YAMLMap;
  for (const key of ['steps', 'services']) {
    const node = root.get(key, true);
    if (!isMap(node)) continue;
    const list = new YAMLSeq();
    for (const pair of node.items as Pair<{ value: unknown }, unknown>[]) {
      const step = new YAMLMap();
      step.items.push(doc.createPair('name', String(pair.key.value)));
      if (isMap(pair.value)) step.items.push(...(pair.value.items as Pair[]));
      list.items.push(step);
    }
    root.set(key, list);
  }
  root.items.unshift(doc.createPair('kind', 'pipeline'), doc.createPair('type', 'docker'));
  return doc.toString();
}

function woodpeckerExpectations(): Map<string, string> {
  const list = JSON.parse(fs.readFileSync(path.join(schemaDir, 'EXPECTED.schema.json'), 'utf8')) as { file: string; expect: string }[];
  return new Map(list.map((e) => [path.basename(e.file), e.expect]));
}

describe('Woodpecker corpus samples', () => {
  const files = fs.readdirSync(samplesDir).filter((f) => f.endsWith('.yaml')).sort();

  it('lists every sample file with a mode, so none is left out', () => {
    expect(files.filter((f) => !(f in CASES))).toEqual([]);
    expect(Object.keys(CASES).filter((f) => !files.includes(f))).toEqual([]);
  });

  it('gives a reason wherever Harrier disagrees with Woodpecker\'s expectation', () => {
    const woodpecker = woodpeckerExpectations();
    for (const [file, c] of Object.entries(CASES)) {
      if (c.mode === 'drone' && c.expect !== woodpecker.get(file)) expect(c.why, file).toBeTruthy();
    }
  });

  for (const file of Object.keys(CASES).sort()) {
    const c = CASES[file];
    if (c.mode === 'woodpecker-only') {
      it(`${file} is refused, naming what only Woodpecker has (${c.why})`, () => {
        const result = parsePipelines(toDroneSyntax(fs.readFileSync(path.join(samplesDir, file), 'utf8')));
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.errors.map((e) => e.message)).toContainEqual(expect.stringMatching(c.error));
      });
      continue;
    }
    it(`${file} ${c.expect === 'pass' ? 'parses' : 'is rejected'}${c.why ? ` (${c.why})` : ''}`, () => {
      const result = parsePipelines(toDroneSyntax(fs.readFileSync(path.join(samplesDir, file), 'utf8')));
      if (c.expect === 'pass') {
        expect(result.ok ? [] : result.errors).toEqual([]);
      } else {
        expect(result.ok).toBe(false);
        if (!result.ok && c.error) expect(result.errors.map((e) => e.message)).toContainEqual(expect.stringMatching(c.error));
      }
    });
  }

  it('reads test-dag.yaml\'s scalar and list depends_on', () => {
    const result = parsePipelines(toDroneSyntax(fs.readFileSync(path.join(samplesDir, 'test-dag.yaml'), 'utf8')));
    expect(result.ok && result.pipelines[0].steps.map((s) => [s.name, s.dependsOn])).toEqual([
      ['first', []],
      ['second', ['first']],
      ['next', ['first', 'second']],
      ['some', ['first']],
      ['last', ['next']],
    ]);
  });

  it('joins test-workspace.yaml\'s workspace base and path', () => {
    const result = parsePipelines(toDroneSyntax(fs.readFileSync(path.join(samplesDir, 'test-workspace.yaml'), 'utf8')));
    expect(result.ok && result.pipelines[0].workspace.path).toBe('/go/src/github.com/octocat/hello-world');
  });

  it('rejects a Woodpecker file as it is, asking for kind: pipeline', () => {
    const result = parsePipelines(fs.readFileSync(path.join(samplesDir, 'test-plugin.yaml'), 'utf8'));
    expect(result.ok ? [] : result.errors[0].message).toContain('`kind: pipeline`');
  });
});
