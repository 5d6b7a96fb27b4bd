// Real provider data the tests check Harrier against, recorded by others: test/fixtures/corpus,
// each source with its licence and provenance (see the README there). HARRIER_CORPUS_DIR
// points elsewhere, to try a newer recording; nothing needs it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const CORPUS_DIR = process.env.HARRIER_CORPUS_DIR ?? path.join(REPO_ROOT, 'test/fixtures/corpus');

export function corpusPath(relative: string): string {
  return path.join(CORPUS_DIR, relative);
}

/** The file's exact bytes, for signature checks that must see what the provider sent. */
export function readCorpusBytes(relative: string): Buffer {
  return fs.readFileSync(corpusPath(relative));
}

export function readCorpusJson<T = any>(relative: string): T {
  return JSON.parse(fs.readFileSync(corpusPath(relative), 'utf8')) as T;
}

export function corpusExists(relative: string): boolean {
  return fs.existsSync(corpusPath(relative));
}

/** A deep copy, so a builder can edit a fixture without touching the cached original. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}
