import { describe, expect, it } from 'vitest';
import { parsePipelines } from './parse.ts';
import { stageSteps } from './stage-steps.ts';
import type { Pipeline } from './types.ts';

function pipeline(text: string): Pipeline {
  const result = parsePipelines(`kind: pipeline\nname: p\n${text}`);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.pipelines[0];
}

describe('stageSteps', () => {
  it('numbers clone 1, then services, then steps', () => {
    const p = pipeline('services:\n- {name: db, image: postgres}\nsteps:\n- {name: build, image: golang}\n- {name: test, image: golang}\n');
    expect(stageSteps(p).map((s) => [s.number, s.name])).toEqual([
      [1, 'clone'],
      [2, 'db'],
      [3, 'build'],
      [4, 'test'],
    ]);
  });

  it('leaves out the clone step when cloning is disabled', () => {
    const p = pipeline('clone: {disable: true}\nsteps:\n- {name: build, image: golang}\n');
    expect(stageSteps(p)).toEqual([{ number: 1, name: 'build', image: 'golang:latest', detached: false, dependsOn: [], errignore: false }]);
  });

  it('records the clone without an image, since the runner clones on its host', () => {
    expect(stageSteps(pipeline('steps:\n- {name: a, image: alpine}\n'))[0]).toEqual({
      number: 1,
      name: 'clone',
      image: '',
      detached: false,
      dependsOn: [],
      errignore: false,
    });
  });

  it('marks services and detached steps detached', () => {
    const p = pipeline('services:\n- {name: db, image: postgres}\nsteps:\n- {name: web, image: nginx, detach: true}\n- {name: a, image: alpine}\n');
    expect(stageSteps(p).map((s) => s.detached)).toEqual([false, true, true, false]);
  });

  it('records depends_on as written and failure: ignore as errignore', () => {
    const p = pipeline('steps:\n- {name: a, image: alpine}\n- {name: b, image: alpine, depends_on: [a], failure: ignore}\n');
    expect(stageSteps(p)[2]).toMatchObject({ name: 'b', dependsOn: ['a'], errignore: true, image: 'alpine:latest' });
  });
});
