import { describe, expect, it } from 'vitest';
import { compileStagePlan } from './compile-plan.ts';
import { stageDetails } from './testing/stage-details.ts';

const request = { workspaceHostPath: '/tmp/ws', idPrefix: 'harrier-test', labels: {} };

describe('compileStagePlan', () => {
  it("substitutes ${DRONE_*} variables in the file before reading it, as Drone's runner does", () => {
    const config = 'kind: pipeline\ntype: docker\nname: default\nsteps:\n- name: tag\n  image: alpine:${DRONE_BRANCH}\n  commands:\n  - echo ${DRONE_COMMIT_SHA}\n';
    const result = compileStagePlan(stageDetails({ config, steps: ['clone', 'tag'], after: 'a'.repeat(40) }), request);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const step = result.plan.steps.find((s) => s.name === 'tag')!;
    expect(step.image).toBe('alpine:main');
    expect(step.env.DRONE_SCRIPT).toContain(`echo ${'a'.repeat(40)}`);
  });

  it('fails with FILE:LINE:COL for a malformed substitution', () => {
    const config = 'kind: pipeline\ntype: docker\nname: default\nsteps:\n- name: x\n  image: alpine:3\n  commands:\n  - echo ${DRONE_BRANCH\n';
    const result = compileStagePlan(stageDetails({ config, steps: ['clone', 'x'] }), request);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatch(/^\.drone\.yml:8:\d+ /);
  });

  it('fails with FILE:LINE:COL when the file does not parse', () => {
    const result = compileStagePlan(stageDetails({ config: 'kind: pipeline\nsteps:\n\t- name: x\n', steps: ['clone'] }), request);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/^\.drone\.yml:3:1 /);
  });
});
