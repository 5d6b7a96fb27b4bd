import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { checkPipelines } from '../../pipeline/index.ts';
import { defaultProposal, isLanguageId, LANGUAGE_IDS, LANGUAGES, language } from './proposals.ts';

describe('proposed pipelines', () => {
  it.each(LANGUAGE_IDS)('the %s proposal passes checkPipelines for an untrusted repository', (id) => {
    const checked = checkPipelines(defaultProposal(id), { trusted: false });
    expect(checked.ok ? [] : checked.errors).toEqual([]);
    expect(checked.ok && checked.pipelines.map((p) => p.name)).toEqual(['default']);
  });

  it.each(LANGUAGE_IDS)('the %s proposal runs every step in the language image, with the commands exactly as listed', (id) => {
    const lang = language(id);
    const doc = parse(defaultProposal(id));
    expect(doc).toMatchObject({ kind: 'pipeline', type: 'docker', name: 'default' });
    expect(doc.steps).toEqual(lang.steps.map((s) => ({ name: s.name, image: lang.image, commands: s.commands })));
  });

  it('uses images with real public tags', () => {
    expect(Object.fromEntries(LANGUAGES.map((l) => [l.id, l.image]))).toEqual({
      node: 'node:20',
      go: 'golang:1.22',
      python: 'python:3.12',
      'java-maven': 'maven:3-eclipse-temurin-21',
      'java-gradle': 'gradle:8-jdk21',
      rust: 'rust:1',
      ruby: 'ruby:3.3',
      php: 'composer:2',
      elixir: 'elixir:1.16',
      dotnet: 'mcr.microsoft.com/dotnet/sdk:8.0',
      generic: 'alpine:3',
    });
  });

  it('installs with npm ci and tests with npm test for Node.js', () => {
    const commands = language('node').steps.flatMap((s) => s.commands);
    expect(commands).toContain('npm ci');
    expect(commands.at(-1)).toBe('npm test');
  });

  it('lists every language once, each with a name people know', () => {
    expect(LANGUAGES.map((l) => l.id)).toEqual([...LANGUAGE_IDS]);
    expect(language('node').name).toBe('Node.js');
    expect(language('java-gradle').name).toBe('Java (Gradle)');
    for (const l of LANGUAGES) expect(l.name).not.toBe('');
  });

  it('tells language ids from other strings', () => {
    expect(isLanguageId('rust')).toBe(true);
    expect(isLanguageId('')).toBe(false);
    expect(isLanguageId('cobol')).toBe(false);
  });

  it('starts with a comment saying Harrier proposed it and how to keep it', () => {
    expect(defaultProposal('go')).toMatch(/^# Proposed by Harrier \(language: Go\).*\n# or commit it as \.drone\.yml/);
  });
});
