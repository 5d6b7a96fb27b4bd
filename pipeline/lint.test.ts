import { describe, expect, it } from 'vitest';
import { checkPipelines, findCycle, lintPipelines } from './lint.ts';
import { parsePipelines } from './parse.ts';
import type { Pipeline, PipelineError } from './types.ts';

function pipelines(text: string): Pipeline[] {
  const result = parsePipelines(text);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.pipelines;
}

const lint = (text: string, trusted = false): PipelineError[] => lintPipelines(pipelines(text), { trusted });

const doc = (name: string, body: string) => `---\nkind: pipeline\ntype: docker\nname: ${name}\n${body}`;
const steps = (...lines: string[]) => `steps:\n${lines.join('\n')}\n`;

describe('lintPipelines pipeline dependencies', () => {
  it('accepts depends_on naming other pipelines', () => {
    expect(lint(doc('a', steps('- {name: x, image: alpine}')) + doc('b', `depends_on: [a]\n${steps('- {name: x, image: alpine}')}`))).toEqual([]);
  });

  it('reports depends_on naming a missing pipeline, with a suggestion', () => {
    const errors = lint(doc('build', steps('- {name: x, image: alpine}')) + doc('deploy', `depends_on: [biuld]\n${steps('- {name: x, image: alpine}')}`));
    expect(errors).toEqual([{ line: 8, col: 1, message: expect.stringMatching(/depends on `biuld`.*Did you mean `build`\?/) }]);
  });

  it('reports a pipeline depending on itself', () => {
    expect(lint(doc('a', `depends_on: [a]\n${steps('- {name: x, image: alpine}')}`))[0].message).toContain('depends on itself');
  });

  it('reports a cycle between pipelines', () => {
    const errors = lint(doc('a', `depends_on: [b]\n${steps('- {name: x, image: alpine}')}`) + doc('b', `depends_on: [a]\n${steps('- {name: x, image: alpine}')}`));
    expect(errors).toEqual([{ line: 2, col: 1, message: expect.stringContaining('cycle: a -> b -> a') }]);
  });

  it('reports duplicate pipeline names at the second pipeline', () => {
    const errors = lint(doc('a', steps('- {name: x, image: alpine}')) + doc('a', steps('- {name: x, image: alpine}')));
    expect(errors).toEqual([{ line: 8, col: 1, message: expect.stringContaining('`a` is used more than once') }]);
  });
});

describe('lintPipelines step dependencies', () => {
  it('accepts depends_on naming steps, services and clone', () => {
    expect(lint(doc('p', `services:\n- {name: db, image: postgres}\n${steps('- {name: a, image: alpine, depends_on: [clone, db]}', '- {name: b, image: alpine, depends_on: [a]}')}`))).toEqual([]);
  });

  it('reports depends_on naming a missing step at the step', () => {
    const errors = lint(doc('p', steps('- {name: build, image: alpine}', '- {name: test, image: alpine, depends_on: [biuld]}')));
    expect(errors).toEqual([{ line: 7, col: 3, message: expect.stringMatching(/`test` depends on `biuld`.*Did you mean `build`\?/) }]);
  });

  it('reports depends_on clone when cloning is disabled', () => {
    const errors = lint(doc('p', `clone: {disable: true}\n${steps('- {name: a, image: alpine, depends_on: [clone]}')}`));
    expect(errors[0].message).toContain('depends on `clone`');
  });

  it('reports a cycle between steps', () => {
    const errors = lint(doc('p', steps('- {name: a, image: alpine, depends_on: [c]}', '- {name: b, image: alpine, depends_on: [a]}', '- {name: c, image: alpine, depends_on: [b]}')));
    expect(errors).toEqual([{ line: 6, col: 3, message: expect.stringContaining('cycle: a -> c -> b -> a') }]);
  });

  it('reports a step depending on itself', () => {
    expect(lint(doc('p', steps('- {name: a, image: alpine, depends_on: [a]}')))[0].message).toContain('depends on itself');
  });
});

describe('lintPipelines trust', () => {
  const privileged = doc('p', steps('- name: dind', '  image: docker:dind', '  privileged: true'));
  const hostVolume = doc('p', `volumes:\n- name: sock\n  host: {path: /var/run/docker.sock}\n${steps('- {name: a, image: docker, volumes: [{name: sock, path: /var/run/docker.sock}]}')}`);

  it('rejects a privileged step in an untrusted repository and says how to fix it', () => {
    expect(lint(privileged)).toEqual([{ line: 6, col: 3, message: expect.stringContaining('mark the repository trusted') }]);
  });

  it('allows a privileged step in a trusted repository', () => {
    expect(lint(privileged, true)).toEqual([]);
  });

  it('rejects a host volume in an untrusted repository at the volume', () => {
    expect(lint(hostVolume)).toEqual([{ line: 6, col: 3, message: expect.stringContaining('mark the repository trusted') }]);
  });

  it('allows a host volume in a trusted repository', () => {
    expect(lint(hostVolume, true)).toEqual([]);
  });

  it('rejects an in-memory temp volume in an untrusted repository, as Drone does', () => {
    const text = doc('p', `volumes:\n- name: ram\n  temp: {medium: memory}\n${steps('- {name: a, image: alpine}')}`);
    expect(lint(text)[0].message).toContain('held in memory');
    expect(lint(text, true)).toEqual([]);
  });
});

describe('lintPipelines volumes', () => {
  it('reports a step mounting an undeclared volume, with a suggestion', () => {
    const errors = lint(doc('p', `volumes:\n- {name: cache, temp: {}}\n${steps('- {name: a, image: alpine, volumes: [{name: cahce, path: /c}]}')}`));
    expect(errors).toEqual([{ line: 8, col: 3, message: expect.stringMatching(/volume `cahce`.*Did you mean `cache`\?/) }]);
  });

  it('reports reserved volume names', () => {
    expect(lint(doc('p', `volumes:\n- {name: workspace, temp: {}}\n${steps('- {name: a, image: alpine}')}`))[0].message).toContain('reserved');
  });

  it('reports a volume declared twice', () => {
    expect(lint(doc('p', `volumes:\n- {name: c, temp: {}}\n- {name: c, temp: {}}\n${steps('- {name: a, image: alpine}')}`))[0]).toMatchObject({
      line: 7,
      message: expect.stringContaining('more than once'),
    });
  });
});

describe('lintPipelines secrets', () => {
  it('reports from_secret with an empty name in a Pipeline built by hand', () => {
    const [p] = pipelines(doc('p', steps('- {name: a, image: alpine}')));
    p.steps[0].environment = { TOKEN: { fromSecret: '' } };
    p.steps[0].settings = { password: { from_secret: ' ' } };
    expect(lintPipelines([p], { trusted: false }).map((e) => e.message)).toEqual([
      expect.stringContaining('environment `TOKEN` of step `a` takes its value from no secret'),
      expect.stringContaining('setting `password` of step `a` takes its value from no secret'),
    ]);
  });
});

describe('checkPipelines', () => {
  it('answers the pipelines and warnings of a valid file', () => {
    const result = checkPipelines(doc('p', steps('- {name: a, image: alpine, user: root}')), { trusted: false });
    expect(result).toMatchObject({ ok: true, pipelines: [{ name: 'p' }], warnings: [{ line: 6 }] });
  });

  it('answers parse errors without linting', () => {
    const result = checkPipelines('kind: pipeline\nsteps: x\n', { trusted: false });
    expect(result).toEqual({ ok: false, errors: [expect.objectContaining({ line: 2, message: expect.stringContaining('must be a list') })] });
  });

  it('answers lint errors sorted by line', () => {
    const text = doc('p', steps('- {name: a, image: alpine, depends_on: [nope]}', '- {name: b, image: alpine, privileged: true}'));
    const result = checkPipelines(text, { trusted: false });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.line)).toEqual([6, 7]);
  });
});

describe('findCycle', () => {
  it('finds no cycle in a DAG', () => {
    const edges: Record<string, string[]> = { a: [], b: ['a'], c: ['a', 'b'] };
    expect(findCycle(Object.keys(edges), (n) => edges[n])).toBeUndefined();
  });

  it('returns the cycle with its first name repeated', () => {
    const edges: Record<string, string[]> = { a: ['b'], b: ['a'] };
    expect(findCycle(['a', 'b'], (n) => edges[n])).toEqual(['a', 'b', 'a']);
  });
});
