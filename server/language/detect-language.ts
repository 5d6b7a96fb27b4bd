// A repository's language, from the marker files at the top of its default
// branch, read through the provider's API (Scm.file) so nothing is cloned.
import type { Scm } from '../providers/scm.ts';
import { ScmError } from '../providers/scm.ts';
import type { LanguageId } from './proposals.ts';

/**
 * Marker files, in order of precedence: when several languages' markers are
 * present, the first listed wins. Files that define how the whole project is
 * built (go.mod, Cargo.toml, pom.xml, build.gradle, global.json, mix.exs) come
 * first; then package manifests that often sit beside another language as
 * tooling (composer.json, a Gemfile for fastlane or Jekyll, requirements.txt for
 * docs); package.json comes last, because front-end tooling sits beside nearly
 * every web backend. .NET projects are named *.csproj, which no single probe
 * can find, so .NET is recognised by global.json only.
 */
export const MARKERS: readonly { language: LanguageId; files: readonly string[] }[] = [
  { language: 'go', files: ['go.mod'] },
  { language: 'rust', files: ['Cargo.toml'] },
  { language: 'java-maven', files: ['pom.xml'] },
  { language: 'java-gradle', files: ['build.gradle', 'build.gradle.kts'] },
  { language: 'dotnet', files: ['global.json'] },
  { language: 'elixir', files: ['mix.exs'] },
  { language: 'php', files: ['composer.json'] },
  { language: 'ruby', files: ['Gemfile'] },
  { language: 'python', files: ['pyproject.toml', 'requirements.txt', 'setup.py'] },
  { language: 'node', files: ['package.json'] },
];

/** Whether a file exists at the ref; a directory of that name is not the marker. */
export async function fileExists(scm: Scm, token: string, slug: string, ref: string, path: string): Promise<boolean> {
  try {
    return (await scm.file(token, slug, ref, path)) !== null;
  } catch (err) {
    // GitHub answers 422 from Scm.file for a directory.
    if (err instanceof ScmError && err.status === 422) return false;
    throw err;
  }
}

/**
 * The repository's language at `ref` (its default branch), or "generic" when no
 * marker is there (an empty repository too). Every marker is asked for at once.
 * Throws the provider's error when it cannot be asked.
 */
export async function detectLanguage(scm: Scm, token: string, slug: string, ref: string): Promise<LanguageId> {
  const probes = MARKERS.map(async (m) => {
    const found = await Promise.all(m.files.map((f) => fileExists(scm, token, slug, ref, f)));
    return found.some(Boolean);
  });
  const present = await Promise.all(probes);
  const index = present.indexOf(true);
  return index === -1 ? 'generic' : MARKERS[index].language;
}
