import { describe, expect, it } from 'vitest';
import { MAX_DEPTH, MAX_DOCUMENTS, MAX_FILE_BYTES, MAX_STEPS, MAX_TOKENS, fileLimitProblem } from './file-limits.ts';
import { checkPipelines } from './lint.ts';
import { parsePipelines } from './parse.ts';

const step = (name: string) => `- name: ${name}\n  image: alpine:3\n  commands: [echo]\n`;
const pipeline = (name: string, steps = 1) => `kind: pipeline\ntype: docker\nname: ${name}\nsteps:\n${Array.from({ length: steps }, (_, i) => step(`s${i}`)).join('')}`;

function refusal(text: string) {
  const result = parsePipelines(text);
  expect(result.ok).toBe(false);
  return result.ok ? undefined : result.errors[0];
}

describe('pipeline file limits', () => {
  it('keeps an ordinary file whose strings are full of brackets', () => {
    const text = `${pipeline('a')}  environment:\n    X: "[[[[{{{{"\n  settings:\n    script: |\n      ${'['.repeat(500)}\n`;
    expect(fileLimitProblem(text)).toBeUndefined();
    expect(parsePipelines(text).ok).toBe(true);
  });

  it('refuses a file over the size limit before reading it', () => {
    const text = `${pipeline('a')}# ${'x'.repeat(MAX_FILE_BYTES)}\n`;
    expect(refusal(text)).toEqual({ line: 1, col: 1, message: expect.stringMatching(/is 1,048,\d{3} bytes; Harrier reads files of at most 1,048,576 bytes/) });
  });

  it('refuses flow collections nested too deep at the bracket that goes over, before the parser recurses', () => {
    const text = `kind: pipeline\nx: ${'['.repeat(200_000)}${']'.repeat(200_000)}\n`;
    expect(refusal(text)).toEqual({ line: 2, col: 'x: '.length + MAX_DEPTH + 1, message: `the pipeline file nests more than ${MAX_DEPTH} levels deep here; flatten it` });
  });

  it('refuses block collections nested too deep, by indentation or by dashes on one line', () => {
    const indented = `kind: pipeline\nx:\n${Array.from({ length: 400 }, (_, i) => `${' '.repeat(i + 1)}- `).join('\n')}a\n`;
    expect(refusal(indented)?.message).toMatch(/nests more than 100 levels/);
    const dashes = `kind: pipeline\nx: ${'- '.repeat(50_000)}a\n`;
    expect(refusal(dashes)?.message).toMatch(/nests more than 100 levels/);
    // One level under the limit is read (and then fails for what it is, not for its depth).
    const fine = `kind: pipeline\nx: ${'['.repeat(MAX_DEPTH - 1)}${']'.repeat(MAX_DEPTH - 1)}\n`;
    expect(fileLimitProblem(fine)).toBeUndefined();
  });

  it('refuses more documents than the limit, at the first one over', () => {
    const text = Array.from({ length: MAX_DOCUMENTS + 5 }, (_, i) => pipeline(`p${i}`)).join('---\n');
    const error = refusal(text)!;
    expect(error.message).toBe(`the pipeline file has more than ${MAX_DOCUMENTS} documents; Harrier reads at most ${MAX_DOCUMENTS} (\`---\` starts each)`);
    expect(error.line).toBe(MAX_DOCUMENTS * 8 + 1);
    expect(parsePipelines(Array.from({ length: MAX_DOCUMENTS }, (_, i) => pipeline(`p${i}`)).join('---\n')).ok).toBe(true);
  });

  it('refuses a file of too many tokens, however small its nesting', () => {
    const text = `${pipeline('a')}  environment:\n    X: [${'1,'.repeat(MAX_TOKENS)}]\n`;
    expect(refusal(text)?.message).toBe(`the pipeline file has more than ${(100_000).toLocaleString('en')} YAML tokens; split it or shorten it`);
  });

  it('refuses more steps and services than the limit across the pipelines of a file', () => {
    const text = [pipeline('a', 600), pipeline('b', 401)].join('---\n');
    expect(refusal(text)?.message).toBe(`the pipeline file has 1001 steps and services; Harrier runs at most ${MAX_STEPS} from one file: split the work`);
  });

  it('reports at most a hundred linter errors, so a thousand misspelt names cost a hundred suggestions', () => {
    const steps = Array.from({ length: 1_000 }, (_, i) => `- name: step-number-${i}\n  image: a\n  commands: [x]\n  depends_on: [step-numbr-${i + 1}]\n`);
    const result = checkPipelines(`kind: pipeline\nname: a\nsteps:\n${steps.join('')}`, { trusted: false });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors).toHaveLength(100);
    expect(!result.ok && result.errors[0].message).toContain('Did you mean `step-number-1`?');
  });
});
