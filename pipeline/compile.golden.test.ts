// Golden files: each testdata/<case>.yml compiled with the fixed fixtures must give
// testdata/<case>.plan.json. Run with UPDATE_GOLDEN=1 to rewrite the .json files,
// then read the diff before committing it.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { baseEnvironment, compileStage } from './compile.ts';
import { checkPipelines } from './lint.ts';
import { stageSteps } from './stage-steps.ts';
import type { CompileInput, Pipeline, Plan } from './types.ts';
import { build, repo, stage, system } from './testdata/fixtures.ts';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'testdata');
const cases = fs.readdirSync(dir).filter((f) => f.endsWith('.yml')).map((f) => f.slice(0, -'.yml'.length)).sort();

function inputFor(pipeline: Pipeline, index: number): CompileInput {
  const stageId = stage.id + index;
  return {
    pipeline,
    repo,
    build,
    stage: {
      ...stage,
      id: stageId,
      number: index + 1,
      name: pipeline.name,
      depends_on: pipeline.dependsOn,
      steps: stageSteps(pipeline).map((s) => ({
        id: stageId * 10 + s.number,
        step_id: stageId,
        number: s.number,
        name: s.name,
        status: 'pending',
        error: '',
        errignore: s.errignore,
        exit_code: 0,
        started: 0,
        stopped: 0,
        version: 1,
        depends_on: s.dependsOn,
        image: s.image,
        detached: s.detached,
        schema: '',
      })),
    },
    system,
    workspaceHostPath: `/var/lib/harrier/workspaces/stage-${stageId}`,
    netrc: null,
    secretNames: [],
    idPrefix: `harrier-${stageId}-golden`,
    labels: { 'io.harrier.runner': 'golden-runner' },
  };
}

/**
 * The plan with the environment every step shares written once: a step's env then
 * shows only what is its own (pipeline and step environment, settings, script).
 */
function goldenView(input: CompileInput, plan: Plan) {
  const base = baseEnvironment(input);
  const sorted = (entries: [string, string][]) => Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
  const own = (env: Record<string, string>) => sorted(Object.entries(env).filter(([k, v]) => base[k] !== v));
  return { baseEnvironment: sorted(Object.entries(base)), plan: { ...plan, steps: plan.steps.map((s) => ({ ...s, env: own(s.env) })) } };
}

function compileCase(name: string): Record<string, unknown> {
  const checked = checkPipelines(fs.readFileSync(path.join(dir, `${name}.yml`), 'utf8'), { trusted: true });
  if (!checked.ok) throw new Error(`${name}.yml does not check: ${JSON.stringify(checked.errors)}`);
  return Object.fromEntries(
    checked.pipelines.map((p, i) => {
      const input = inputFor(p, i);
      return [p.name, goldenView(input, compileStage(input))];
    }),
  );
}

describe('compileStage golden plans', () => {
  it('has golden cases to compare', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });

  it.each(cases)('compiles %s.yml to %s.plan.json', (name) => {
    const actual = `${JSON.stringify(compileCase(name), null, 2)}\n`;
    const goldenPath = path.join(dir, `${name}.plan.json`);
    if (process.env.UPDATE_GOLDEN === '1' || !fs.existsSync(goldenPath)) {
      if (process.env.UPDATE_GOLDEN !== '1') throw new Error(`${name}.plan.json is missing: run with UPDATE_GOLDEN=1 to write it`);
      fs.writeFileSync(goldenPath, actual);
    }
    expect(actual).toBe(fs.readFileSync(goldenPath, 'utf8'));
  });
});
